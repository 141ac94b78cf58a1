"""The GW local search of ``dilt.gw`` batched over pairs in torch, for a CUDA device.

Each pair of a batch is searched as ``dilt.gw._local_search`` does one pair: from the
identity coupling, cycle moves of the linearised objective alternate with rounds of
disjoint pair swaps until neither improves. Every step is a dense (batch, n, n) tensor
operation: the Bellman-Ford sweeps of the cycle search, the swap gains and their greedy
acceptance (a loop over the candidate slots, all pairs at once), and a move's update
M' = M[:, pi] + C1 (B' - B[:, pi]) as one batched product. The search runs in float32
with TF32 off; values are the exact float64 objectives of the permutations found. The
float32 paths differ from numpy's, so a pair may end in a different local optimum
(tests/test_gw.py bounds the difference on test layers).
"""

import numpy as np
import torch

from .gw_search import ECC_GATE, RTOL


def _gather_cols(X, idx):
    """X[b][:, idx[b]] for every b: (b, n, n) columns picked per batch entry."""
    return X.gather(2, idx[:, None, :].expand(-1, X.shape[1], -1))


def _gather_rows(X, idx):
    return X.gather(1, idx[:, :, None].expand(-1, -1, X.shape[2]))


def _apply(C1, B, M, sigma, pi):
    """(B, M, sigma) after sigma' = sigma[pi] for every pair (pi = identity: no move)."""
    Bc = _gather_cols(B, pi)
    B2 = _gather_rows(Bc, pi)
    M = _gather_cols(M, pi) + torch.bmm(C1, B2 - Bc)  # C1 symmetric: C1^T = C1
    return B2, M, sigma.gather(1, pi)


def _swap_round(C1, B, M, sigma, batch):
    """One round of disjoint improving pair swaps for every pair; which pairs swapped."""
    b, n, _ = M.shape
    d = M.diagonal(dim1=1, dim2=2)
    h = M + M.transpose(1, 2) + 2.0 * C1 * B - d[:, None, :]  # h_ij = d_i - g_ij
    hmax, j = h.max(dim=2)
    best = d - hmax
    tol = -RTOL * d.abs().mean(dim=1, keepdim=True)
    k = min(batch, n)
    gain, slot = torch.topk(-best, k, dim=1)
    gain = -gain
    valid = gain < tol
    i = slot
    j = j.gather(1, i)
    rows = torch.arange(b, device=M.device)[:, None, None]
    i_s, i_t, j_s, j_t = i[:, :, None], i[:, None, :], j[:, :, None], j[:, None, :]
    da = C1[rows, i_s, i_t] - C1[rows, i_s, j_t] - C1[rows, j_s, i_t] + C1[rows, j_s, j_t]
    db = B[rows, j_t, i_s] - B[rows, i_t, i_s] - B[rows, j_t, j_s] + B[rows, i_t, j_s]
    effect = (da * db).transpose(1, 2)  # effect[:, s, t]: change of t's g after s
    used = torch.zeros(b, n + 1, dtype=torch.bool, device=M.device)
    take = torch.zeros(b, k, dtype=torch.bool, device=M.device)
    for t in range(k):
        it, jt = i[:, t : t + 1], j[:, t : t + 1]
        free = ~used.gather(1, it) & ~used.gather(1, jt) & (it != jt)
        ok = valid[:, t : t + 1] & (gain[:, t : t + 1] < tol) & free
        take[:, t] = ok[:, 0]
        used.scatter_(1, torch.where(ok, it, n), True)
        used.scatter_(1, torch.where(ok, jt, n), True)
        gain = gain + ok * effect[:, t]
    pi = torch.arange(n + 1, device=M.device).repeat(b, 1)
    pi.scatter_(1, torch.where(take, i, n), torch.where(take, j, n))
    pi.scatter_(1, torch.where(take, j, n), torch.where(take, i, n))
    B, M, sigma = _apply(C1, B, M, sigma, pi[:, :n].contiguous())
    return B, M, sigma, take.any(dim=1)


def _cycle_move(M, iters=30):
    """Batched ``dilt.gw._cycle_move``: pi per pair (identity where none) and a found mask."""
    b, n, _ = M.shape
    d = M.diagonal(dim1=1, dim2=2)
    W = M.transpose(1, 2) - d[:, :, None]  # W[:, j, i] = M_ij - M_jj
    W.diagonal(dim1=1, dim2=2).fill_(-torch.inf)
    tol = RTOL * d.abs().mean(dim=1, keepdim=True)
    dist = torch.zeros_like(d)
    pred = torch.arange(n, device=M.device).repeat(b, 1)
    pi = pred.clone()
    found = torch.zeros(b, dtype=torch.bool, device=M.device)
    live = torch.ones(b, dtype=torch.bool, device=M.device)
    for sweep in range(iters):
        best, p = (W + dist[:, None, :]).max(dim=2)
        up = (best > dist + tol) & live[:, None]
        live &= up.any(dim=1)
        if not live.any():
            break
        dist = torch.where(up, best, dist)
        pred = torch.where(up, p, pred)
        if sweep % 3 == 2 or sweep == iters - 1:
            move, gains = _positive_cycles(M, pred, tol)
            new = gains & live
            pi = torch.where(new[:, None], move, pi)
            found |= new
            live &= ~new
    return pi, found


def _positive_cycles(M, pred, tol):
    """Batched ``dilt.gw._positive_cycles``: (pi, whether any cycle gains) per pair."""
    b, n = pred.shape
    label, jump = torch.arange(n, device=M.device).repeat(b, 1), pred.clone()
    for _ in range(max(1, int(np.ceil(np.log2(n))))):
        label = torch.minimum(label, label.gather(1, jump))
        jump = jump.gather(1, jump)
    on_cycle = torch.zeros(b, n, dtype=torch.bool, device=M.device).scatter_(1, jump, True)
    nodes = torch.arange(n, device=M.device).expand(b, n)
    edge = M[torch.arange(b, device=M.device)[:, None], pred, nodes] - M.diagonal(dim1=1, dim2=2)
    gain = torch.zeros_like(edge).scatter_add_(1, label, torch.where(on_cycle, edge, 0.0))
    keep = on_cycle & (gain.gather(1, label) > tol)
    pi = torch.arange(n + 1, device=M.device).repeat(b, 1)
    pi.scatter_(1, torch.where(keep, pred, n), torch.where(keep, nodes, n))
    return pi[:, :n].contiguous(), keep.any(dim=1)


def local_search(C1, C2, sigma, rounds=100, max_steps=100, batch=64):
    """Batched ``dilt.gw._local_search``: C1, C2 (b, n, n) float32, sigma (b, n) starts."""
    B = _gather_rows(_gather_cols(C2, sigma), sigma)
    M = torch.bmm(C1, B)
    swapped = torch.ones(len(C1), dtype=torch.bool, device=C1.device)
    for _ in range(max_steps):
        pi, found = _cycle_move(M)
        if not (found | swapped).any():
            break
        B, M, sigma = _apply(C1, B, M, sigma, pi)
        swapped = torch.zeros_like(swapped)
        for _ in range(rounds):
            B, M, sigma, moved = _swap_round(C1, B, M, sigma, batch)
            swapped |= moved
            if not moved.any():
                break
    return sigma


def perm_values(C1, C2, sigma):
    """Exact float64 GW objectives of the permutation couplings sigma (b, n)."""
    C1, C2 = C1.double(), C2.double()
    B = _gather_rows(_gather_cols(C2, sigma), sigma)
    return ((C1 - B) ** 2).mean(dim=(1, 2))


def gw_pairs(mats: dict, pairs, device, solver="local+ecc", chunk=32):
    """``dilt.gw.gw_pairs`` for solver "local" or "local+ecc", as batched torch on
    ``device``, ``chunk`` pairs at a time; a float64 numpy array."""
    if solver not in ("local", "local+ecc"):
        raise ValueError(f"the torch engine runs solver 'local' or 'local+ecc', got {solver!r}")
    device = torch.device(device)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    out = []
    try:
        for start in range(0, len(pairs), chunk):
            part = pairs[start : start + chunk]
            C1 = torch.stack([torch.as_tensor(np.asarray(mats[a], np.float32)) for a, _ in part])
            C2 = torch.stack([torch.as_tensor(np.asarray(mats[b], np.float32)) for _, b in part])
            C1, C2 = C1.to(device), C2.to(device)
            n = C1.shape[1]
            ident = torch.arange(n, device=device).repeat(len(part), 1)
            values = perm_values(C1, C2, local_search(C1, C2, ident))
            if solver == "local+ecc":
                values = torch.minimum(values, _eccentricity_pass(C1, C2, values))
            out.append(values.cpu().numpy())
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return np.concatenate(out) if out else np.zeros(0)


def _eccentricity_pass(C1, C2, values):
    """Values from the eccentricity start (``dilt.gw._eccentricity_start``) for the pairs
    whose start passes the gate; +inf for the others."""
    order1 = torch.argsort(C1.double().sum(dim=2), dim=1, stable=True)
    order2 = torch.argsort(C2.double().sum(dim=2), dim=1, stable=True)
    start = torch.empty_like(order1).scatter_(1, order1, order2)
    gate = perm_values(C1, C2, start) < ECC_GATE * values
    result = torch.full_like(values, torch.inf)
    if gate.any():
        idx = gate.nonzero()[:, 0]
        result[idx] = perm_values(C1[idx], C2[idx], local_search(C1[idx], C2[idx], start[idx]))
    return result
