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
that share a probe set: each distance matrix is used as given for every pair and pairs run
in parallel threads. Distance matrices are conditionally negative definite, so the GW
objective is concave on the couplings and has its minima at permutations (POT's solutions
are permutations too). The engine is a local search over permutations from starts that
only this setting allows (the probe rows correspond, so the identity is a natural start):
cycle moves of the linearised objective (Frank-Wolfe's assignment step, found by
Bellman-Ford sweeps) alternate with rounds of exact pair swaps, in float32, at O(n^2) a
step after one n x n product. Values are the exact float64 objectives of the couplings
found, so lower is better. ``bench/bench_gw.py`` measures the solvers against the naive
POT loop and the best known objective of each pair; ``dilt.gw_torch`` runs the same search
batched over pairs on a GPU.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import numpy as np
from threadpoolctl import threadpool_limits

from .gw_search import ECC_GATE, RTOL


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


_TILE = 64


def _swap_rounds(C1, B, M, sigma, rounds, batch=64) -> int:
    """Improve the coupling permutation(sigma) / n by rounds of disjoint pair swaps, in place.

    B = C2[sigma][:, sigma] and M = C1 @ B (zero diagonals). Swapping sigma[i] and sigma[j]
    changes GW by 4 g_ij / n^2, g_ij = M_ii + M_jj - M_ij - M_ji - 2 C1_ij B_ij. Once a swap
    (i, j) is applied, the g of a swap (k, l) on other indices grows by (a_k - a_l)(b_k - b_l)
    with a = C1[:, i] - C1[:, j] and b = B[j] - B[i]. Each round takes each row's best
    partner, the ``batch`` most negative, and accepts them greedily with these exact
    corrections; M and B are then updated in O(n^2 * swaps). Returns the rounds that swapped;
    rounds stop early when no swap improves.
    """
    n = len(C1)
    rows = np.arange(n)
    twice_c1 = C1 + C1
    h, tmp = np.empty_like(M), np.empty_like(M)
    done = 0
    for _ in range(rounds):
        d = M.diagonal().copy()
        for s in range(0, n, _TILE):  # h = M + M.T, tiled: a strided transpose is slow
            np.add(M[s : s + _TILE], M.T[s : s + _TILE], out=h[s : s + _TILE])
        h += np.multiply(twice_c1, B, out=tmp)
        h -= d  # h_ij = d_i - g_ij
        j = np.argmax(h, axis=1)
        best = d - h[rows, j]
        tol = -RTOL * float(np.abs(d).mean())
        i = np.flatnonzero(best < tol)
        i = i[np.argsort(best[i], kind="stable")[:batch]]
        j = j[i]
        # effect[s, t]: change of candidate t's g once candidate s is applied
        da = C1[i[:, None], i] - C1[i[:, None], j] - C1[j[:, None], i] + C1[j[:, None], j]
        db = B[j, i[:, None]] - B[i, i[:, None]] - B[j, j[:, None]] + B[i, j[:, None]]
        effect = (da * db).T
        gain = best[i]
        used = set()
        take = []
        for t in range(len(i)):
            if gain[t] < tol and i[t] not in used and j[t] not in used:
                used.update((i[t], j[t]))
                take.append(t)
                gain = gain + effect[t]
        if not take:
            break
        done += 1
        i, j = i[take], j[take]
        M += (C1[i] - C1[j]).T @ (B[j] - B[i])  # C1 is symmetric
        for X in (M.T, B, B.T):  # exchange columns i and j of M, rows and columns of B
            X[i], X[j] = X[j], X[i]
        sigma[i], sigma[j] = sigma[j], sigma[i]
    return done


def _cycle_move(M, iters=30):
    """An improving set of cyclic moves for the linearised objective, or None.

    Row i taking the slot of row j (sigma'[i] = sigma[j]) changes the linear term sum_i M_ii
    by M_ij - M_jj; a cycle of such moves with a positive total is an improving step of
    the assignment problem of M (Frank-Wolfe's step, restricted to cycles found here). The
    longest paths of this exchange graph are relaxed Bellman-Ford style (O(n^2) a sweep);
    cycles of the predecessor graph with positive gain are returned together as pi (new
    sigma = sigma[pi]), or None when ``iters`` sweeps find none. By concavity of GW on the
    couplings (distance matrices are conditionally negative definite), the true GW change
    is at least the linear one, so every move returned improves.
    """
    n = len(M)
    d = M.diagonal().copy()
    W = M.T - d[:, None]  # W[j, i] = M_ij - M_jj: row i into slot j
    np.fill_diagonal(W, -np.inf)
    tol = RTOL * float(np.abs(d).mean())
    dist = np.zeros(n, dtype=M.dtype)
    pred = np.arange(n)
    cols = np.arange(n)
    cand = np.empty_like(W)
    for sweep in range(iters):
        np.add(W, dist, out=cand)
        p = np.argmax(cand, axis=1)
        best = cand[cols, p]
        up = best > dist + tol
        if not up.any():
            return None
        dist = np.where(up, best, dist)
        pred = np.where(up, p, pred)
        if sweep % 3 == 2 or sweep == iters - 1:
            pi = _positive_cycles(M, pred, tol)
            if pi is not None:
                return pi
    return None


def _positive_cycles(M, pred, tol):
    """pi applying every cycle of the functional graph j -> pred[j] whose move gains."""
    n = len(pred)
    label, jump = np.arange(n), pred.copy()
    for _ in range(max(1, int(np.ceil(np.log2(n))))):  # label: min node n steps back
        label = np.minimum(label, label[jump])
        jump = jump[jump]
    on_cycle = np.zeros(n, dtype=bool)
    on_cycle[jump] = True  # pred applied >= n times lands on cycles
    nodes = np.flatnonzero(on_cycle)
    gain = np.zeros(n, dtype=M.dtype)
    np.add.at(gain, label[nodes], M[pred[nodes], nodes] - M[nodes, nodes])
    keep = nodes[gain[label[nodes]] > tol]
    if not len(keep):
        return None
    pi = np.arange(n)
    pi[pred[keep]] = keep
    return pi


def _apply(C1, B, M, sigma, pi):
    """(B, M, sigma) after the move sigma' = sigma[pi], M updated in O(n^2 * moved)."""
    moved = np.flatnonzero(pi != np.arange(len(pi)))
    Bc = B[:, pi]
    B2 = Bc[pi]
    M = M[:, pi]
    M += C1[moved].T @ (B2[moved] - Bc[moved])
    return B2, M, sigma[pi]


def _local_search(C1, C2, sigma, rounds=100, max_steps=100):
    """A permutation near sigma that no pair swap and no cycle move found here improves.

    Alternates cycle moves (``_cycle_move``) with pair swaps (``_swap_rounds``, up to
    ``rounds`` rounds) until neither improves. Searches in float32 (moves count as
    improving above a relative tolerance); the caller evaluates the result exactly.
    """
    C1 = np.asarray(C1, dtype=np.float32)
    C2 = np.asarray(C2, dtype=np.float32)
    sigma = np.array(sigma)
    B = C2[sigma][:, sigma]
    M = C1 @ B
    swapped = True
    for _ in range(max_steps):
        pi = _cycle_move(M)
        if pi is None and not swapped:
            break
        if pi is not None:
            B, M, sigma = _apply(C1, B, M, sigma, pi)
        swapped = _swap_rounds(C1, B, M, sigma, rounds) > 0
    return sigma


SOLVERS = ("swap", "local", "local+ecc", "pot")


def _eccentricity_start(C1, C2):
    """The permutation pairing rows of C1 and C2 in the order of their row sums: POT's
    first step from its default start, and a start far from the identity."""
    sigma = np.empty(len(C1), dtype=np.int64)
    sigma[np.argsort(C1.sum(axis=1), kind="stable")] = np.argsort(C2.sum(axis=1), kind="stable")
    return sigma


def _solve(C1, C2, solver):
    """(value, coupling) of one pair under ``solver`` (see ``gw_pairs``): the coupling is a
    permutation sigma (meaning T[i, sigma[i]] = 1/n) or, from POT, an n x n matrix."""
    C1 = np.asarray(C1, dtype=np.float64)
    C2 = np.asarray(C2, dtype=np.float64)
    n = len(C1)
    if solver == "swap":
        sigma = np.arange(n)
        C1w, B = C1.astype(np.float32), C2.astype(np.float32)
        _swap_rounds(C1w, B, C1w @ B, sigma, rounds=10)
    else:
        sigma = _local_search(C1, C2, np.arange(n))
    best = (_perm_value(C1, C2, sigma), sigma)
    if solver == "local+ecc":
        start = _eccentricity_start(C1, C2)
        if _perm_value(C1, C2, start) < ECC_GATE * best[0]:
            sigma = _local_search(C1, C2, start)
            best = min(best, (_perm_value(C1, C2, sigma), sigma), key=lambda vc: vc[0])
    if solver == "pot":
        T = _pot().gromov.gromov_wasserstein(C1, C2, loss_fun="square_loss")
        best = min(best, (gw_value(C1, C2, T), T), key=lambda vc: vc[0])
        start = T.argmax(axis=1)
        if len(np.unique(start)) == n:  # POT ended on a permutation: polish it too
            sigma = _local_search(C1, C2, start)
            best = min(best, (_perm_value(C1, C2, sigma), sigma), key=lambda vc: vc[0])
    return best


def gw_coupling(C1, C2, solver: str = "local+ecc"):
    """(GW value, n x n coupling) of one pair under ``solver`` (see ``gw_pairs``); the value
    is ``gw_value`` of the coupling."""
    value, coupling = _solve(C1, C2, _check_solver(solver))
    if coupling.ndim == 1:
        n = len(coupling)
        T = np.zeros((n, n))
        T[np.arange(n), coupling] = 1.0 / n
        coupling = T
    return value, coupling


def reference_values(C1, C2, restarts: int = 2, seed: int = 0, default_start=True) -> dict:
    """Exact GW objectives of POT's conditional gradient from several starts: its default
    start ("pot", the naive solve; left out with ``default_start=False``), the identity
    coupling ("pot_identity") and ``restarts`` seeded random permutations ("pot_random0",
    ...). With an engine's value, their minimum is the best known objective of the pair
    (bench/bench_gw.py)."""
    C1 = np.asarray(C1, dtype=np.float64)
    C2 = np.asarray(C2, dtype=np.float64)
    n = len(C1)
    rng = np.random.default_rng(seed)
    starts = {"pot": None} if default_start else {}
    starts["pot_identity"] = np.arange(n)
    starts.update({f"pot_random{k}": rng.permutation(n) for k in range(restarts)})
    values = {}
    for name, sigma in starts.items():
        G0 = None
        if sigma is not None:
            G0 = np.zeros((n, n))
            G0[np.arange(n), sigma] = 1.0 / n
        T = _pot().gromov.gromov_wasserstein(C1, C2, loss_fun="square_loss", G0=G0)
        values[name] = gw_value(C1, C2, T)
    return values


def _check_solver(solver):
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    return solver


def gw_pairs(mats: dict, pairs, n_jobs: int = 1, solver: str = "local+ecc", device=None):
    """GW values (float64 array) for the given (label, label) pairs of ``mats``.

    ``mats`` maps labels to n x n symmetric distance matrices with zero diagonals over the
    same probe inputs (as from ``distance_matrix``), used as given for every pair. Each
    value is the exact objective of a permutation coupling (or POT's coupling) found by:

    * ``"local"``: the identity coupling, improved by cycle moves and pair swaps until
      neither improves (``_local_search``);
    * ``"local+ecc"`` (default): ``"local"``, and where the eccentricity-sorted matching
      (POT's first step) is within a factor 2.5 of its value, the same search from there;
      the better of the two;
    * ``"swap"``: the identity coupling after up to 10 rounds of pair swaps (fastest);
    * ``"pot"``: the best of ``"local"``, POT's conditional gradient from its default start
      (what ``ot.gromov.gromov_wasserstein`` returns for the pair on its own) and that
      solution improved by the same local search: never worse than POT alone, and slower.

    Speed and quality of each: docs/performance.md. Pairs run in ``n_jobs`` threads with
    one BLAS thread each; results do not depend on ``n_jobs``. With a torch ``device``
    ("cuda", or "cpu" for checks), "local" and "local+ecc" run batched over pairs
    (``dilt.gw_torch``, torch imported only then).
    """
    _check_solver(solver)
    if not pairs:
        return np.zeros(0)
    for label in {label for pair in pairs for label in pair}:
        C = np.asarray(mats[label])
        if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape != np.shape(mats[pairs[0][0]]):
            raise ValueError(f"{label}: distance matrices must all be n x n, got {C.shape}")
        if np.any(np.diag(C)) or not np.allclose(C, C.T):
            raise ValueError(f"{label}: a distance matrix must be symmetric, zero diagonal")
    if device is not None:
        from . import gw_torch

        return gw_torch.gw_pairs(mats, pairs, device, solver)
    with threadpool_limits(1), ThreadPoolExecutor(max(1, n_jobs)) as pool:
        values = pool.map(lambda ab: _solve(mats[ab[0]], mats[ab[1]], solver)[0], pairs)
        return np.fromiter(values, dtype=np.float64, count=len(pairs))


def gw_matrix(mats: dict, n_jobs: int = 1, solver: str = "local+ecc", device=None):
    """GW values between all pairs of ``mats`` (see ``gw_pairs``): (labels, D), with D a
    symmetric float64 matrix with a zero diagonal, rows and columns in ``mats`` order."""
    labels = list(mats)
    index = list(combinations(range(len(labels)), 2))
    values = gw_pairs(mats, [(labels[i], labels[j]) for i, j in index], n_jobs, solver, device)
    D = np.zeros((len(labels), len(labels)))
    for (i, j), value in zip(index, values, strict=True):
        D[i, j] = D[j, i] = value
    return labels, D
