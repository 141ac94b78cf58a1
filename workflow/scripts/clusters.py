"""Rule clusters: spectral clustering of the layers of all chains from their GW distances."""

import pandas as pd

from dilt import io, rule_job
from dilt.clustering import spectral_clusters


def main(smk, log):
    gw = io.read_tsv(smk.input[0], index_col=0)
    labels, info = spectral_clusters(gw.to_numpy(), n_clusters=smk.params.n_clusters,
                                     max_k=smk.params.max_clusters, alpha=smk.params.alpha,
                                     seed=0)
    log(f"k={info['k']} sigma={info['sigma']:.4g}; eigengap's k {info.get('k_eigengap')}, "
        f"noise p {info.get('noise_p')}, cloud p {info.get('cloud_p')}")
    nodes = gw.index.to_series().str.split(":", n=1, expand=True)
    table = pd.DataFrame({"node": gw.index, "part": nodes[0].to_numpy(),
                          "layer": nodes[1].to_numpy(), "cluster": labels})
    table.insert(3, "depth", table.groupby("part").cumcount())
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
