"""Mask overlap between the K DiLT chains per layer, per enclosing module and overall."""

from . import masks


def overlap_rows(chain_masks, tickets, parts):
    """Rows of overlap.tsv: per mask key, per enclosing module (masks.module_groups: residual
    or transformer blocks) and 'all': size, each chain's density, the mean pairwise Jaccard,
    its chance level for independent masks with every tensor's densities, the
    chance-corrected overlap (J - J0) / (1 - J0), and core and union density."""
    keys = sorted(chain_masks[0])
    counts = masks.overlap_counts(chain_masks)
    layers = {k: [k] for k in keys}
    layers.update(masks.module_groups(keys))
    layers["all"] = keys
    rows = []
    for layer, group in layers.items():
        cols = counts.columns(group)
        size = int(counts.sizes[cols].sum())
        row = {"layer": layer, "params": size}
        row.update({f"density_{p}": int(counts.kept[i, cols].sum()) / size
                    for i, p in enumerate(parts)})
        row.update(masks.group_overlap(counts, group))
        row.update(core_density=masks.density({k: tickets["core"][k] for k in group}),
                   union_density=masks.density({k: tickets["union"][k] for k in group}))
        rows.append(row)
    return rows
