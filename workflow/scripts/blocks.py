"""Rule blocks: per functional block, mean mask Jaccard vs mean same-layer GW; Spearman test."""

import pandas as pd

from dilt import io, rule_job
from dilt.blocks import block_table, same_layer_gw, spearman_permutation


def main(smk, log):
    gw = io.read_tsv(smk.input.gw, index_col=0)
    clusters = io.read_tsv(smk.input.clusters)
    overlap = io.read_tsv(smk.input.overlap).set_index("layer")
    layers = list(dict.fromkeys(clusters["layer"]))
    # A layer's block is the cluster most of its K copies fall in (ties: lowest id).
    block = clusters.groupby("layer")["cluster"].agg(lambda c: c.mode().min()).to_dict()
    consistent = clusters.groupby("layer")["cluster"].nunique().eq(1).to_dict()
    # A representation layer is a masked module (row '{layer}.weight') or a block of them.
    row = {x: x if x in overlap.index else f"{x}.weight" for x in layers}
    jaccard = {x: float(overlap.loc[row[x], "jaccard"]) for x in layers}
    chance = {x: float(overlap.loc[row[x], "chance_jaccard"]) for x in layers}
    same_gw = same_layer_gw(list(gw.index), gw.to_numpy(), smk.params.parts, layers)
    table = pd.DataFrame(block_table(block, jaccard, same_gw))
    table["mean_chance_jaccard"] = [
        sum(chance[x] for x in row.split(",")) / len(row.split(",")) for row in table["layers"]]
    io.write_tsv(smk.output.blocks, table)
    rho, p_value = spearman_permutation([jaccard[x] for x in layers],
                                        [same_gw[x] for x in layers],
                                        n_perm=smk.params.permutations, seed=0)
    log(f"Spearman rho {rho:.3f}, permutation p {p_value:.4f} over {len(layers)} layers")
    io.write_json(smk.output.correlation, {
        "spearman_rho": rho, "p_value": p_value, "n_layers": len(layers),
        "permutations": smk.params.permutations,
        "layers": [{"layer": x, "block": int(block[x]), "consistent": bool(consistent[x]),
                    "jaccard": jaccard[x], "chance_jaccard": chance[x], "gw": same_gw[x]}
                   for x in layers],
    })


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
