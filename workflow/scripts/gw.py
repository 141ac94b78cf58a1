"""Rule gw: Gromov-Wasserstein distances between all layers of all chains, as a labelled TSV.

params.solver is gw.solver; params.device (gw.device) cpu runs the numpy engine in the job's
threads without importing torch, cuda[:N] the batched torch search (dilt.gw_torch)."""

import pandas as pd

from dilt import io, rule_job
from dilt.gw import gw_matrix


def main(smk, log):
    mats = {}
    for part, path in zip(smk.params.parts, smk.input, strict=True):
        for layer, dist in io.load_npz(path).items():
            mats[f"{part}:{layer}"] = dist
    device = None
    if smk.params.device != "cpu":
        from dilt import devices

        device = devices.select(smk.params.device, key="gw.device")
    labels, dist = gw_matrix(mats, n_jobs=smk.threads, solver=smk.params.solver, device=device)
    log(f"{len(labels)} layers, {len(labels) * (len(labels) - 1) // 2} pairs, solver "
        f"{smk.params.solver} on {device or f'{smk.threads} CPU threads'}")
    table = pd.DataFrame(dist, index=pd.Index(labels, name="node"), columns=labels)
    with io.atomic_path(smk.output[0]) as tmp:
        table.to_csv(tmp, sep="\t", float_format="%.8g")


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
