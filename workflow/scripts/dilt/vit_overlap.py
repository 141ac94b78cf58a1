"""Weight names of a timm VisionTransformer's units and the per-block overlap table of K chain
masks: per head, per q/k/v/output projection and per FFN module. numpy only, so the tickets
job runs without torch (dilt.vit_structure holds the units, masks and FLOPs)."""

from itertools import combinations

import numpy as np

from . import masks as algebra

PATCH = "patch_embed.proj.weight"


def qkv_name(i):
    return f"blocks.{i}.attn.qkv.weight"


def proj_name(i):
    return f"blocks.{i}.attn.proj.weight"


def fc1_name(i):
    return f"blocks.{i}.mlp.fc1.weight"


def fc2_name(i):
    return f"blocks.{i}.mlp.fc2.weight"


def head_rows(dim, heads, h):
    """Rows of head h's q, k and v in a qkv weight of shape (3 dim, dim)."""
    hd = dim // heads
    return [part * dim + h * hd + r for part in range(3) for r in range(hd)]


def component_weights(shapes, heads):
    """[(block, component, [(weight name, index)])] for the overlap table, from mask shapes:
    the patch embedding, then per block each head (its q/k/v rows and proj columns), the q, k
    and v thirds of qkv, proj, fc1, fc2 and the FFN module (fc1 + fc2). Components whose
    weights are not in `shapes` are left out."""
    out = [("patch_embed", "proj", [(PATCH, ())])] if PATCH in shapes else []
    depth = sum(n.endswith(".attn.qkv.weight") for n in shapes)
    for i in range(depth):
        block, qkv, proj = f"blocks.{i}", qkv_name(i), proj_name(i)
        parts = []
        if qkv in shapes and proj in shapes:
            dim = shapes[qkv][1]
            hd = dim // heads
            parts += [(f"head{h}", [(qkv, (head_rows(dim, heads, h),)),
                                    (proj, (slice(None), slice(h * hd, (h + 1) * hd)))])
                      for h in range(heads)]
        if qkv in shapes:
            dim = shapes[qkv][1]
            parts += [(c, [(qkv, (slice(p * dim, (p + 1) * dim),))])
                      for p, c in enumerate("qkv")]
        for comp, name in (("proj", proj), ("fc1", fc1_name(i)), ("fc2", fc2_name(i))):
            if name in shapes:
                parts.append((comp, [(name, ())]))
        ffn = [(n, ()) for n in (fc1_name(i), fc2_name(i)) if n in shapes]
        if len(ffn) == 2:
            parts.append(("ffn", ffn))
        out += [(block, comp, weights) for comp, weights in parts]
    return out


def overlap_rows(chain_masks, tickets, parts, heads):
    """ViT overlap table of K chain masks (numpy bool dicts): one row per block x component
    (component_weights) with `params`, `density_{part}`, mean pairwise `jaccard`, mean
    pairwise `chance_jaccard` J0 = d1 d2 / (d1 + d2 - d1 d2), `jaccard_vs_chance`, the mean
    over pairs of (J - J0) / (1 - J0) (NaN where J0 = 1), and the densities of the tickets
    (dilt.masks.tickets: `core_density`, `union_density`, `specialist_{part}_density`)."""
    shapes = {k: v.shape for k, v in chain_masks[0].items()}
    rows = []
    for block, comp, weights in component_weights(shapes, heads):
        def flat(mask, weights=weights):
            return np.concatenate([np.asarray(mask[n])[i].ravel() for n, i in weights]
                                  ).astype(bool)

        chains = [flat(m) for m in chain_masks]
        dens = [float(c.mean()) for c in chains]
        pairs = list(combinations(range(len(chains)), 2))
        j = [algebra.jaccard(chains[a], chains[b]) for a, b in pairs]
        j0 = [algebra.chance_jaccard(dens[a], dens[b]) for a, b in pairs]
        corrected = [algebra.corrected_jaccard(x, c) for x, c in zip(j, j0, strict=True)]
        row = {"block": block, "component": comp, "params": chains[0].size}
        row.update({f"density_{p}": d for p, d in zip(parts, dens, strict=True)})
        row.update({"jaccard": float(np.mean(j)), "chance_jaccard": float(np.mean(j0)),
                    "jaccard_vs_chance": float(np.mean(corrected)),
                    "core_density": float(flat(tickets["core"]).mean()),
                    "union_density": float(flat(tickets["union"]).mean())})
        row.update({f"specialist_{p}_density": float(flat(tickets[f"specialist_{p}"]).mean())
                    for p in parts})
        rows.append(row)
    return rows
