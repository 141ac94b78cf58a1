"""Functional blocks: mask overlap (Jaccard) against GW distance, per layer and cluster.

Overlap enters raw and chance-corrected (``masks.group_overlap``). Under global pruning a
layer's density depends on its size and depth, so the chance overlap J0 of independent
masks, and with it the raw Jaccard, drifts with depth as GW does: a negative Spearman rho
between raw Jaccard and GW can arise with no disentanglement at all, and a layer
permutation null does not see it. ``correlation_test`` therefore also reports rho of the
corrected overlap and a null that keeps every layer's densities (``density_null_jaccard``).
"""

from itertools import combinations

import numpy as np
from scipy.stats import rankdata, spearmanr

from . import masks
from .io import DiltError


def spearman_permutation(x, y, n_perm=10000, seed=0):
    """Spearman rho of x and y with a seeded two-sided permutation p-value.

    p = (#{|rho_perm| >= |rho|} + 1) / (n_perm + 1), permuting y. Returns (nan, 1.0) when
    fewer than 3 points or either input is constant.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), 1.0
    rho = float(spearmanr(x, y).statistic)
    rx = rankdata(x) - (len(x) + 1) / 2.0  # centred ranks; Spearman = Pearson of ranks
    ry = rankdata(y) - (len(y) + 1) / 2.0
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(ry, (n_perm, 1)), axis=1)
    null = perms @ rx / (np.linalg.norm(rx) * np.linalg.norm(ry))
    count = int(np.sum(np.abs(null) >= abs(rho) - 1e-12))
    return rho, (count + 1) / (n_perm + 1)


def same_layer_gw(labels, D, parts, layers):
    """Per layer, the mean GW distance between that layer in each pair of parts.

    ``labels`` name the rows of ``D`` as f"{part}:{layer}"; needs at least two parts.
    """
    if len(parts) < 2:
        raise ValueError("same_layer_gw needs at least two parts")
    index = {label: i for i, label in enumerate(labels)}
    D = np.asarray(D)
    out = {}
    for layer in layers:
        rows = [index[f"{part}:{layer}"] for part in parts]
        out[layer] = float(np.mean([D[a, b] for a, b in combinations(rows, 2)]))
    return out


def layer_keys(layers, keys):
    """{representation layer: its mask keys}. A layer is an enclosing module of masked
    weights (``masks.module_groups``: a residual or transformer block) or a masked module
    whose weight is f"{layer}.weight"; DiltError for a layer that is neither."""
    groups = masks.module_groups(sorted(keys))
    out = {}
    for layer in layers:
        if layer in groups:
            out[layer] = groups[layer]
        elif f"{layer}.weight" in keys:
            out[layer] = [f"{layer}.weight"]
        else:
            raise DiltError(f"blocks: layer '{layer}' has no masked weights")
    return out


def _nanmean(values):
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def block_table(cluster_of_layer, overlap, same_gw, counts, keys_of):
    """One row per cluster (ascending id): cluster, n_layers, layers (comma-joined, in the
    order of ``cluster_of_layer``), mean_jaccard, mean_chance_jaccard,
    mean_jaccard_corrected (means over its layers of ``overlap[layer]``, the
    ``masks.group_overlap`` of each layer; layers whose corrected value is undefined are
    left out of that mean), jaccard_corrected and mean_gw.

    jaccard_corrected treats the block as one group of tensors (``masks.group_overlap`` of
    the union of its layers' keys ``keys_of``, from ``counts``): big layers weigh by their
    size, as in the 'all' row of overlap.tsv, and J0 uses each layer's own densities.
    """
    rows = []
    for cluster in sorted(set(cluster_of_layer.values())):
        layers = [layer for layer, c in cluster_of_layer.items() if c == cluster]
        keys = list(dict.fromkeys(k for layer in layers for k in keys_of[layer]))
        rows.append(
            {
                "cluster": int(cluster),
                "n_layers": len(layers),
                "layers": ",".join(layers),
                "mean_jaccard": float(np.mean([overlap[x]["jaccard"] for x in layers])),
                "mean_chance_jaccard": float(
                    np.mean([overlap[x]["chance_jaccard"] for x in layers])),
                "mean_jaccard_corrected": _nanmean(
                    [overlap[x]["jaccard_corrected"] for x in layers]),
                "jaccard_corrected": masks.group_overlap(counts, keys)["jaccard_corrected"],
                "mean_gw": float(np.mean([same_gw[layer] for layer in layers])),
            }
        )
    return rows


def density_null_jaccard(counts, groups, draws, rng):
    """Raw Jaccard of each group of mask keys under masks drawn at random with exactly the
    observed kept count of every tensor and mask: (draws, len(groups)).

    The intersection of two uniformly random subsets of sizes a and b of n weights is
    hypergeometric(a, n - a, b), and a pair's Jaccard over a group depends on its masks only
    through these intersections, so draws are exact without building masks (ResNet-50
    scale costs microseconds). With K > 2 masks each pair is drawn independently: the pair
    intersections of independent masks are pairwise independent (given one mask, the
    others' overlaps with it do not depend on where it lies), so the mean over pairs has
    the exact null mean and variance.
    """
    sizes, kept = counts.sizes, counts.kept
    member = np.zeros((len(groups), len(counts.keys)))
    for g, keys in enumerate(groups):
        member[g, counts.columns(keys)] = 1.0
    total = np.zeros((draws, len(groups)))
    for i, j in counts.pairs:
        inter = rng.hypergeometric(kept[i], sizes - kept[i], kept[j], size=(draws, len(sizes)))
        inter_g = inter @ member.T
        union_g = (kept[i] + kept[j]) @ member.T - inter_g
        total += np.divide(inter_g, union_g, out=np.ones_like(inter_g), where=union_g > 0)
    return total / len(counts.pairs)


def density_null_p(rho, null_jaccard, gw):
    """One-sided p of an observed Spearman rho(Jaccard, GW) against the density null:
    (1 + #{rho_null <= rho}) / (1 + draws), rho_null = Spearman of each row of
    ``null_jaccard`` with ``gw``.

    One-sided because the hypothesis is directional (more shared weights, lower GW: rho <
    0), and because this null is not centred on zero: density drift alone gives rho_null <
    0, so |rho| has no symmetric reference. A draw whose Jaccard is constant over layers
    (rho_null undefined) counts as at least as extreme (conservative). NaN when rho is.
    """
    if not np.isfinite(rho):
        return float("nan")
    gy = rankdata(gw)
    gy = (gy - gy.mean()) / np.linalg.norm(gy - gy.mean())
    rx = rankdata(null_jaccard, axis=1)
    rx = rx - rx.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(rx, axis=1)
    null = np.divide(rx @ gy, norm, out=np.full(len(rx), np.nan), where=norm > 0)
    extreme = ~(null > rho + 1e-12)  # NaN draws count as extreme
    return float((1 + np.sum(extreme)) / (1 + len(null)))


def skip_reason(counts, jaccard, gw):
    """Why Spearman(Jaccard, GW) over layers is undefined, or None: a dense round (every
    mask keeps every weight, Jaccard 1 everywhere: round 0), fewer than 3 layers, or a
    constant Jaccard or GW over layers."""
    if counts.dense:
        return "dense round: every chain keeps every weight, so Jaccard is 1 in every layer"
    if len(jaccard) < 3:
        return f"only {len(jaccard)} layers (Spearman needs 3)"
    if np.ptp(jaccard) == 0:
        return "Jaccard is the same in every layer"
    if np.ptp(gw) == 0:
        return "same-layer GW is the same in every layer"
    return None


def correlation_test(overlap, same_gw, counts, keys_of, n_perm=10000, n_null=500, seed=0):
    """Spearman tests of overlap against same-layer GW over the layers of ``overlap``.

    ``overlap[layer]`` is ``masks.group_overlap(counts, keys_of[layer])``. Returns
    spearman_rho and p_value (raw Jaccard, two-sided layer permutation, as before),
    rho_corrected and p_value_corrected (corrected Jaccard, same permutation test, over the
    n_layers_corrected layers where it is defined), p_density_null (raw rho against
    ``n_null`` density-preserving draws, ``density_null_p``), density_null_draws and
    reason (None, or why the test is undefined; then every rho and p is NaN).
    """
    layers = list(overlap)
    jac = np.array([overlap[x]["jaccard"] for x in layers])
    cor = np.array([overlap[x]["jaccard_corrected"] for x in layers])
    gw = np.array([same_gw[x] for x in layers])
    defined = np.isfinite(cor)
    out = {"reason": skip_reason(counts, jac, gw), "density_null_draws": int(n_null),
           "n_layers_corrected": int(defined.sum())}
    nan = float("nan")
    if out["reason"] is not None:
        return {**out, "spearman_rho": nan, "p_value": nan, "rho_corrected": nan,
                "p_value_corrected": nan, "p_density_null": nan}
    rho, p = spearman_permutation(jac, gw, n_perm=n_perm, seed=seed)
    rho_c, p_c = spearman_permutation(cor[defined], gw[defined], n_perm=n_perm, seed=seed)
    null = density_null_jaccard(counts, [keys_of[x] for x in layers], n_null,
                                np.random.default_rng(seed))
    return {**out, "spearman_rho": rho, "p_value": p, "rho_corrected": rho_c,
            "p_value_corrected": p_c if np.isfinite(rho_c) else nan,
            "p_density_null": density_null_p(rho, null, gw)}
