"""Rule blocks: per functional block, the mask overlap (raw and chance-corrected) against the
mean same-layer GW, and the correlation tests over layers (permutation and
density-preserving nulls); undefined in a dense round, with the reason."""

import pandas as pd

from dilt import blocks, io, masks, rule_job


def main(smk, log):
    p = smk.params
    gw = io.read_tsv(smk.input.gw, index_col=0)
    clusters = io.read_tsv(smk.input.clusters)
    paths = list(smk.input.masks)
    chain_masks = [io.load_arrays(path) for path in paths]
    masks.check_compatible(chain_masks, paths)
    counts = masks.overlap_counts(chain_masks)
    layers = list(dict.fromkeys(clusters["layer"]))
    keys_of = blocks.layer_keys(layers, counts.keys)
    overlap = {x: masks.group_overlap(counts, keys_of[x]) for x in layers}
    # A layer's block is the cluster most of its K copies fall in (ties: lowest id).
    block = clusters.groupby("layer")["cluster"].agg(lambda c: c.mode().min()).to_dict()
    consistent = clusters.groupby("layer")["cluster"].nunique().eq(1).to_dict()
    same_gw = blocks.same_layer_gw(list(gw.index), gw.to_numpy(), p.parts, layers)
    block = {x: block[x] for x in layers}
    io.write_tsv(smk.output.blocks,
                 pd.DataFrame(blocks.block_table(block, overlap, same_gw, counts, keys_of)))
    test = blocks.correlation_test(overlap, same_gw, counts, keys_of, n_perm=p.permutations,
                                   n_null=p.density_null_draws)
    log(test["reason"] or f"Spearman rho {test['spearman_rho']:.3f} (p {test['p_value']:.4f}), "
        f"corrected {test['rho_corrected']:.3f}, density null p {test['p_density_null']:.4f} "
        f"over {len(layers)} layers")
    io.write_json(smk.output.correlation, {
        **test, "n_layers": len(layers), "permutations": p.permutations,
        "layers": [{"layer": x, "block": int(block[x]), "consistent": bool(consistent[x]),
                    **overlap[x], "gw": same_gw[x]} for x in layers]})


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
