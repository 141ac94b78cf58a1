"""Functional blocks: mask overlap (Jaccard) against GW distance, per layer and cluster."""

from itertools import combinations

import numpy as np
from scipy.stats import rankdata, spearmanr


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


def block_table(cluster_of_layer, jaccard, same_gw):
    """One row per cluster (ascending id): cluster, n_layers, layers (comma-joined, in the
    order of ``cluster_of_layer``), mean_jaccard and mean_gw over its layers."""
    rows = []
    for cluster in sorted(set(cluster_of_layer.values())):
        layers = [layer for layer, c in cluster_of_layer.items() if c == cluster]
        rows.append(
            {
                "cluster": int(cluster),
                "n_layers": len(layers),
                "layers": ",".join(layers),
                "mean_jaccard": float(np.mean([jaccard[layer] for layer in layers])),
                "mean_gw": float(np.mean([same_gw[layer] for layer in layers])),
            }
        )
    return rows
