"""Layer distance matrices and Gromov-Wasserstein (GW) distances between them.

Conventions
-----------
* A layer's representation is an (n, d) array of probe-set features, rows in probe order.
* ``distance_matrix`` divides pairwise Euclidean distances by their mean off-diagonal
  entry, so GW compares shapes, not scales: GW(X, cX) = 0 for any c > 0.
* A GW value is POT's ``gromov_wasserstein2`` loss (square loss, uniform weights):
  min_T sum_{i,j,k,l} (C1[i,k] - C2[j,l])^2 T[i,j] T[k,l], with no 1/2 and no square root.
  Any coupling's objective is an upper bound on it; lower is better.

Engine
------
``gw_distance`` is POT for one pair. ``gw_matrix``/``gw_pairs`` serve all pairs of layers
that share a probe set: each distance matrix is used as given for every pair, pairs run in
parallel threads, and each pair keeps the better of POT's own solution (default start) and
a cheap search that only this setting allows: the probe rows correspond, so the identity
coupling I/n is a natural start, improved by rounds of pair swaps whose exact effect on
the objective comes from one n x n matrix (``_swap_polish``). Values are the exact float64
objectives of the kept couplings. ``bench/bench_gw.py`` measures this against the naive
loop; POT's conditional gradient is not reproducible to the last bit (BLAS threads, float
precision) and its local optima then differ, so only a run of the same arithmetic can be
no worse than it on every pair.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import numpy as np
from threadpoolctl import threadpool_limits


def _pot():
    """POT, imported on first use (the distances rule needs only ``distance_matrix``) and
    without its torch/jax/cupy/tensorflow backends: POT loads every installed backend when
    imported (torch: ~1.5 s CPU per job) and everything here is numpy."""
    for backend in ("PYTORCH", "JAX", "CUPY", "TENSORFLOW"):
        os.environ.setdefault(f"POT_BACKEND_DISABLE_{backend}", "1")
    import ot

    return ot


def distance_matrix(reps) -> np.ndarray:
    """Scale-invariant (n, n) float32 Euclidean distance matrix of ``reps`` (n, ...).

    ``reps`` may be a numpy array or a torch tensor; trailing dimensions are flattened and
    processed in column blocks (float64), so large feature maps need little extra memory.
    Distances are divided by their mean off-diagonal value; representations with all rows
    equal (e.g. all zero) give the zero matrix.
    """
    if hasattr(reps, "detach"):  # torch tensor, without importing torch here
        reps = reps.detach().cpu().numpy()
    x = np.asarray(reps).reshape(len(reps), -1)
    n = len(x)
    gram = np.zeros((n, n))
    step = max(1, 2**22 // max(n, 1))
    for start in range(0, x.shape[1], step):
        block = x[:, start : start + step].astype(np.float64)
        block -= block.mean(axis=0)  # translation invariant; centring aids precision
        gram += block @ block.T
    sq = np.diag(gram)
    d2 = sq[:, None] + sq[None, :] - gram - gram.T
    d = np.sqrt(np.maximum(d2, 0.0))
    np.fill_diagonal(d, 0.0)
    mean = d.sum() / (n * (n - 1)) if n > 1 else 0.0
    if mean > 0:
        d /= mean
    return d.astype(np.float32)


def gw_distance(C1, C2, G0=None, **kwargs) -> float:
    """GW value of two distance matrices with POT's ``gromov_wasserstein2`` in float64.

    Square loss, uniform weights, POT's default start unless a coupling ``G0`` is given;
    ``kwargs`` go to POT (e.g. ``max_iter``, ``tol_rel``).
    """
    C1 = np.asarray(C1, dtype=np.float64)
    C2 = np.asarray(C2, dtype=np.float64)
    return float(_pot().gromov.gromov_wasserstein2(C1, C2, loss_fun="square_loss", G0=G0, **kwargs))


def gw_value(C1, C2, T) -> float:
    """Exact float64 GW objective of coupling ``T`` between symmetric C1 and C2."""
    C1, C2, T = (np.asarray(a, dtype=np.float64) for a in (C1, C2, T))
    p, q = T.sum(axis=1), T.sum(axis=0)
    const = p @ C1**2 @ p + q @ C2**2 @ q
    return float(const - 2.0 * np.vdot(C1 @ T @ C2, T))


def _perm_value(C1, C2, sigma) -> float:
    """Exact float64 GW objective of the coupling permutation(sigma) / n."""
    C2 = np.asarray(C2, dtype=np.float64)[sigma][:, sigma]
    return float(np.mean((np.asarray(C1, dtype=np.float64) - C2) ** 2))


def _swap_polish(C1, C2, sigma, rounds, batch=64):
    """Improve the coupling permutation(sigma) / n by rounds of disjoint pair swaps.

    With B = C2[sigma][:, sigma] and M = C1 @ B (zero diagonals), swapping sigma[i] and
    sigma[j] changes GW by 4 g_ij / n^2, g_ij = M_ii + M_jj - M_ij - M_ji - 2 C1_ij B_ij.
    Once a swap (i, j) is applied, the g of a swap (k, l) on other indices grows by
    (a_k - a_l)(b_k - b_l) with a = C1[:, i] - C1[:, j] and b = B[j] - B[i]. Each round
    takes each row's best partner, the ``batch`` most negative, and accepts them greedily
    with these exact corrections; M and B are then updated in O(n^2 * swaps). Rounds stop
    early when no swap improves.
    """
    n = len(C1)
    sigma = sigma.copy()
    B = C2[sigma][:, sigma]
    M = C1 @ B
    rows = np.arange(n)
    for _ in range(rounds):
        d = np.diag(M)
        g = M + M.T
        g -= d[:, None]
        g -= d[None, :]
        g += 2.0 * C1 * B
        g *= -1.0
        tol = -1e-9 * float(np.abs(d).mean())
        j = np.argmin(g, axis=1)
        best = g[rows, j]
        i = np.flatnonzero(best < tol)
        i = i[np.argsort(best[i], kind="stable")[:batch]]
        j = j[i]
        # effect[s, t]: change of candidate t's g once candidate s is applied
        da = C1[i[:, None], i] - C1[i[:, None], j] - C1[j[:, None], i] + C1[j[:, None], j]
        db = B[j, i[:, None]] - B[i, i[:, None]] - B[j, j[:, None]] + B[i, j[:, None]]
        effect = (da * db).T
        gain = g[i, j].astype(np.float64)
        used = np.zeros(n, dtype=bool)
        take = []
        for t in range(len(i)):
            if gain[t] < tol and not (used[i[t]] or used[j[t]]):
                used[[i[t], j[t]]] = True
                take.append(t)
                gain += effect[t]
        if not take:
            break
        i, j = i[take], j[take]
        M += (C1[:, i] - C1[:, j]) @ (B[j] - B[i])
        for X in (M.T, B, B.T):  # exchange columns i and j of M, rows and columns of B
            X[i], X[j] = X[j], X[i]
        sigma[i], sigma[j] = sigma[j], sigma[i]
    return sigma


def _identity_swap(C1, C2, rounds) -> float:
    """GW objective reached from the identity coupling after ``rounds`` of swaps."""
    n = len(C1)
    sigma = _swap_polish(C1, C2, np.arange(n), rounds)
    return _perm_value(C1, C2, sigma)


def _pair_value(C1, C2, solver, rounds) -> float:
    """One pair's GW value under ``solver`` (see ``gw_pairs``)."""
    value = _identity_swap(C1, C2, rounds)
    if solver == "pot":
        T = _pot().gromov.gromov_wasserstein(C1, C2, loss_fun="square_loss")
        value = min(value, gw_value(C1, C2, T))
    return value


def gw_pairs(mats: dict, pairs, n_jobs: int = 1, solver: str = "pot", rounds: int = 10):
    """GW values (float64 array) for the given (label, label) pairs of ``mats``.

    ``mats`` maps labels to n x n symmetric distance matrices with zero diagonals over the
    same probe inputs (as from ``distance_matrix``), used as given for every pair. Each
    value is the exact objective of the better of two couplings:

    * the identity coupling improved by up to ``rounds`` rounds of pair swaps, and
    * with ``solver="pot"`` (default), POT's conditional gradient from its default start,
      i.e. what ``ot.gromov.gromov_wasserstein`` returns for the pair on its own.

    ``solver="swap"`` skips POT: several times faster, and lower than POT where the two
    layers' geometries correspond closely, higher where they differ (bench/bench_gw.py).
    Pairs run in ``n_jobs`` threads with one BLAS thread each; results do not depend on
    ``n_jobs``.
    """
    if solver not in ("pot", "swap"):
        raise ValueError(f"solver must be 'pot' or 'swap', got {solver!r}")
    if not pairs:
        return np.zeros(0)
    for label in {label for pair in pairs for label in pair}:
        C = np.asarray(mats[label])
        if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape != np.shape(mats[pairs[0][0]]):
            raise ValueError(f"{label}: distance matrices must all be n x n, got {C.shape}")
        if np.any(np.diag(C)) or not np.allclose(C, C.T):
            raise ValueError(f"{label}: a distance matrix must be symmetric, zero diagonal")
    with threadpool_limits(1), ThreadPoolExecutor(max(1, n_jobs)) as pool:
        values = pool.map(lambda ab: _pair_value(mats[ab[0]], mats[ab[1]], solver, rounds), pairs)
        return np.fromiter(values, dtype=np.float64, count=len(pairs))


def gw_matrix(mats: dict, n_jobs: int = 1, solver: str = "pot", rounds: int = 10):
    """GW values between all pairs of ``mats`` (see ``gw_pairs``): (labels, D), with D a
    symmetric float64 matrix with a zero diagonal, rows and columns in ``mats`` order."""
    labels = list(mats)
    index = list(combinations(range(len(labels)), 2))
    values = gw_pairs(mats, [(labels[i], labels[j]) for i, j in index], n_jobs, solver, rounds)
    D = np.zeros((len(labels), len(labels)))
    for (i, j), value in zip(index, values, strict=True):
        D[i, j] = D[j, i] = value
    return labels, D
