"""Mask algebra on dicts of boolean numpy arrays (1 = kept): tickets, densities, overlap."""

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .io import DiltError


def density(mask):
    """Fraction of kept weights over all tensors of a mask."""
    kept = sum(int(m.sum()) for m in mask.values())
    total = sum(int(np.prod(m.shape)) for m in mask.values())
    return kept / total


def check_compatible(masks, names):
    """Raise DiltError unless all masks have the same keys and shapes; names label the masks."""
    ref_name, ref = names[0], masks[0]
    for name, mask in zip(names[1:], masks[1:], strict=True):
        if mask.keys() != ref.keys():
            diff = sorted(set(mask) ^ set(ref))
            raise DiltError(f"{name}: mask keys differ from {ref_name}: {diff[:3]}")
        for key in ref:
            if mask[key].shape != ref[key].shape:
                raise DiltError(
                    f"{name}: mask '{key}' has shape {mask[key].shape}, "
                    f"{ref_name} has {ref[key].shape}"
                )


def _combine(masks, op):
    return {k: op([m[k].astype(bool) for m in masks]) for k in masks[0]}


def core(masks):
    """Weights every mask keeps (AND)."""
    return _combine(masks, lambda ms: np.logical_and.reduce(ms))


def union(masks):
    """Weights any mask keeps (OR)."""
    return _combine(masks, lambda ms: np.logical_or.reduce(ms))


def specialist(masks, k):
    """Weights mask k keeps and no other mask keeps: m_k AND NOT OR(others)."""
    others = [m for i, m in enumerate(masks) if i != k]
    rest = union(others)
    return {key: masks[k][key].astype(bool) & ~rest[key] for key in masks[k]}


def tickets(masks, part_names):
    """All DiLT tickets from K partition masks: core, union and one specialist per part."""
    out = {"core": core(masks), "union": union(masks)}
    for k, name in enumerate(part_names):
        out[f"specialist_{name}"] = specialist(masks, k)
    return out


def jaccard(a, b):
    """Intersection over union of two boolean arrays (1.0 when both are empty)."""
    inter = np.logical_and(a, b).sum()
    uni = np.logical_or(a, b).sum()
    return float(inter / uni) if uni else 1.0


def mean_pairwise_jaccard(arrays):
    """Mean Jaccard over all pairs of boolean arrays."""
    values = [jaccard(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:]]
    return float(np.mean(values))


def chance_jaccard(d1, d2):
    """Expected Jaccard of two independent random masks with densities d1, d2.

    E|A&B| / E|A|B| = d1 d2 / (d1 + d2 - d1 d2); for d1 = d2 = d this is d / (2 - d).
    """
    denom = d1 + d2 - d1 * d2
    return d1 * d2 / denom if denom else 1.0


def corrected_jaccard(j, j0):
    """Chance-corrected overlap (J - J0) / (1 - J0): 0 at chance, 1 for identical masks.

    Undefined (NaN) when J0 = 1, i.e. when the masks keep every weight and no overlap
    beyond chance is possible.
    """
    return (j - j0) / (1.0 - j0) if j0 < 1.0 else float("nan")


def group_chance_jaccard(sizes, kept_a, kept_b):
    """Jaccard of two independent random masks that keep kept_a[l] and kept_b[l] of the
    sizes[l] weights of each tensor l, as expected intersection over expected union:

        J0 = sum_l n_l d1_l d2_l / sum_l n_l (d1_l + d2_l - d1_l d2_l),  d = kept / n.

    Each tensor keeps its own densities (global pruning makes them differ by layer), so J0
    of a group is not chance_jaccard of the pooled densities. For one tensor it is exactly
    chance_jaccard(d1, d2). 1.0 when both masks are empty.
    """
    n = np.asarray(sizes, dtype=np.float64)
    a = np.asarray(kept_a, dtype=np.float64)
    b = np.asarray(kept_b, dtype=np.float64)
    inter = float(np.sum(a * b / n))
    union = float(np.sum(a + b)) - inter
    return inter / union if union else 1.0


@dataclass(frozen=True)
class OverlapCounts:
    """The counts every overlap statistic of K masks needs, per mask key (sorted):
    ``sizes`` (L,), ``kept`` (K, L) per mask, ``inter`` (P, L) per pair of masks, pairs in
    ``itertools.combinations(range(K), 2)`` order. Small enough to keep for any model."""

    keys: tuple
    sizes: np.ndarray
    kept: np.ndarray
    inter: np.ndarray

    @property
    def pairs(self):
        return list(combinations(range(len(self.kept)), 2))

    @property
    def dense(self):
        """True when every mask keeps every weight (round 0): overlap carries no signal."""
        return bool(np.all(self.kept == self.sizes))

    def columns(self, keys):
        """Column indices of ``keys``; raises DiltError for a key no mask has."""
        index = {k: i for i, k in enumerate(self.keys)}
        missing = [k for k in keys if k not in index]
        if missing:
            raise DiltError(f"masks: no mask tensor named {missing[:3]}")
        return np.array([index[k] for k in keys], dtype=int)


def overlap_counts(chain_masks):
    """OverlapCounts of K >= 2 compatible masks (dicts of boolean arrays)."""
    keys = tuple(sorted(chain_masks[0]))
    flat = [[np.asarray(m[k], dtype=bool).ravel() for k in keys] for m in chain_masks]
    sizes = np.array([f.size for f in flat[0]], dtype=np.int64)
    kept = np.array([[np.count_nonzero(f) for f in m] for m in flat], dtype=np.int64)
    inter = np.array([[np.count_nonzero(x & y) for x, y in zip(flat[i], flat[j], strict=True)]
                      for i, j in combinations(range(len(flat)), 2)], dtype=np.int64)
    return OverlapCounts(keys, sizes, kept, inter.reshape(-1, len(keys)))


def group_overlap(counts, keys=None):
    """Overlap of the masks over a group of tensors (default: all): {jaccard,
    chance_jaccard, jaccard_corrected}.

    jaccard: pooled intersection over pooled union of each pair of masks, mean over pairs
    (what ``mean_pairwise_jaccard`` gives on the concatenated tensors). chance_jaccard:
    ``group_chance_jaccard`` of each pair, mean over pairs. jaccard_corrected:
    ``corrected_jaccard`` of these two means, so the three columns of a table check against
    each other by hand; for K = 2 it is the pair's own corrected overlap.
    """
    cols = counts.columns(counts.keys if keys is None else keys)
    sizes, kept, inter = counts.sizes[cols], counts.kept[:, cols], counts.inter[:, cols]
    jac, chance = [], []
    for p, (i, j) in enumerate(counts.pairs):
        union = int(kept[i].sum() + kept[j].sum() - inter[p].sum())
        jac.append(inter[p].sum() / union if union else 1.0)
        chance.append(group_chance_jaccard(sizes, kept[i], kept[j]))
    j, j0 = float(np.mean(jac)), float(np.mean(chance))
    return {"jaccard": j, "chance_jaccard": j0, "jaccard_corrected": corrected_jaccard(j, j0)}


def random_counts(shapes, counts, rng):
    """A random mask keeping exactly counts[key] weights of each tensor."""
    out = {}
    for key in sorted(shapes):
        size = int(np.prod(shapes[key]))
        flat = np.zeros(size, dtype=bool)
        flat[rng.permutation(size)[: counts[key]]] = True
        out[key] = flat.reshape(shapes[key])
    return out


def random_like(reference, rng):
    """A random mask with exactly the same number of kept weights per tensor as `reference`."""
    return random_counts({k: m.shape for k, m in reference.items()},
                         {k: int(m.sum()) for k, m in reference.items()}, rng)


def random_global(shapes, density, rng):
    """A random mask keeping round(density * total) weights drawn uniformly over all tensors."""
    keys = sorted(shapes)
    sizes = [int(np.prod(shapes[k])) for k in keys]
    flat = np.zeros(sum(sizes), dtype=bool)
    flat[rng.permutation(len(flat))[: round(density * len(flat))]] = True
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return {k: p.reshape(shapes[k]) for k, p in zip(keys, parts, strict=True)}


def module_groups(keys):
    """{module: [mask keys inside it]} for every enclosing module of the masked weights.

    'layer1.0.conv1.weight' lies in 'layer1.0' and 'layer1'; a weight's own module
    ('layer1.0.conv1') is not a group, so a flat model (conv1.weight, fc1.weight) has none.
    Residual blocks and transformer blocks, whose representations GW compares, are groups.
    """
    groups = {}
    for key in keys:
        parts = key.split(".")[:-2]
        for depth in range(1, len(parts) + 1):
            groups.setdefault(".".join(parts[:depth]), []).append(key)
    return groups
