"""Mask overlap between the K DiLT chains per layer, per enclosing module and overall."""

import numpy as np

from . import masks


def overlap_rows(chain_masks, tickets, parts):
    """Rows of overlap.tsv: per mask key, per enclosing module (masks.module_groups: residual
    or transformer blocks) and 'all': size, each chain's density, mean pairwise Jaccard and
    its chance level for independent masks, core and union density."""
    layers = {k: [k] for k in sorted(chain_masks[0])}
    layers.update(masks.module_groups(sorted(chain_masks[0])))
    layers["all"] = sorted(chain_masks[0])
    rows = []
    for layer, keys in layers.items():
        flat = [np.concatenate([m[k].ravel() for k in keys]).astype(bool) for m in chain_masks]
        dens = [float(f.mean()) for f in flat]
        chance = [masks.chance_jaccard(a, b) for i, a in enumerate(dens) for b in dens[i + 1:]]
        row = {"layer": layer, "params": flat[0].size}
        row.update({f"density_{p}": d for p, d in zip(parts, dens, strict=True)})
        row.update({
            "jaccard": masks.mean_pairwise_jaccard(flat),
            "chance_jaccard": float(np.mean(chance)),
            "core_density": masks.density({k: tickets["core"][k] for k in keys}),
            "union_density": masks.density({k: tickets["union"][k] for k in keys}),
        })
        rows.append(row)
    return rows
