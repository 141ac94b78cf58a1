"""CAP, Correlation-Aware Pruning (Kuznedelev et al., NeurIPS 2023): unstructured OBS pruning.

Each prunable tensor is cut, flattened in row-major order, into blocks of `block_size`
consecutive weights (the last block padded with pruned zeros). Per block, the damped empirical
Fisher F = (1/m) sum_i g_i g_i^T + damp I comes from the per-example gradients g_i (pruned
entries zeroed) of m calibration examples. Inside every block the weights are removed one
at a time, greedily, as Optimal Brain Surgeon does: the weight q with the least saliency
rho_q = w_q^2 / (2 [F^-1]_qq) goes, the others move by dw = -w_q F^-1 e_q / [F^-1]_qq, and the
inverse loses row and column q (F^-1 <- F^-1 - F^-1 e_q e_q^T F^-1 / [F^-1]_qq). The running
sum of the saliencies is the loss of removing that many weights of the block. A global
threshold on these losses over every block of every tensor gives the number of weights each
block loses; each block's weights are those of its elimination after that many steps.
Already pruned weights leave first, at no cost. Memory: block_size floats per weight.
"""

import math
import warnings
from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, vmap

from . import devices, seeding, train
from .io import DiltError


@dataclass(frozen=True)
class Settings:
    """Config section baselines.cap (see settings())."""

    block_size: int = 32
    num_grads: int = 256
    damp: float = 1e-6
    steps: int = 2
    epochs: int = 2


def settings(cfg):
    """Settings from config section baselines.cap: block_size, num_grads, damp and
    schedule {steps, epochs}; missing keys take the defaults of Settings."""
    cfg = dict(cfg or {})
    schedule = dict(cfg.pop("schedule", None) or {})
    unknown = sorted(set(cfg) - {"block_size", "num_grads", "damp"})
    unknown += [f"schedule.{k}" for k in sorted(set(schedule) - {"steps", "epochs"})]
    if unknown:
        raise DiltError(f"baselines.cap.{unknown[0]}: unknown setting")
    out = Settings(**cfg, **schedule)
    for key in ("block_size", "num_grads", "steps"):
        if not isinstance(getattr(out, key), int) or getattr(out, key) < 1:
            prefix = "schedule." if key == "steps" else ""
            raise DiltError(f"baselines.cap.{prefix}{key}: must be a positive integer, "
                            f"got {getattr(out, key)!r}")
    if not isinstance(out.epochs, int) or out.epochs < 0:
        raise DiltError(f"baselines.cap.schedule.epochs: must be an integer >= 0, "
                        f"got {out.epochs!r}")
    if isinstance(out.damp, bool) or not isinstance(out.damp, int | float) or out.damp <= 0:
        raise DiltError(f"baselines.cap.damp: must be positive, got {out.damp!r}")
    return out


def calibration_sample(feed, num_grads, seed):
    """`num_grads` examples of the feed, drawn without replacement by `seed`."""
    if num_grads > len(feed):
        raise DiltError(f"baselines.cap.num_grads: {num_grads} calibration examples asked, "
                        f"the training set has {len(feed)}")
    gen = torch.Generator().manual_seed(seed)
    return feed.subset(torch.randperm(len(feed), generator=gen)[:num_grads])


def per_example_gradients(model, names, x, y):
    """{name: (n, numel)} gradients of each example's cross-entropy loss, by torch.func's
    vmap over grad. Call it in eval mode (block_fisher does): no dropout, no drop-path."""
    params = {n: p.detach() for n, p in model.named_parameters()}
    wanted = {n: params[n] for n in names}

    def loss(weights, xi, yi):
        out = functional_call(model, {**params, **weights}, (xi[None],))
        return torch.nn.functional.cross_entropy(out.float(), yi[None])

    with warnings.catch_warnings():  # vmap loops over fused attention: correct, only slower
        warnings.filterwarnings("ignore", message="There is a performance drop")
        grads = vmap(grad(loss), in_dims=(None, 0, 0))(wanted, x, y)
    return {n: g.flatten(1) for n, g in grads.items()}


def _blocks(flat, size):
    """(..., numel) -> (..., ceil(numel / size), size), zero-padded at the end."""
    pad = -flat.shape[-1] % size
    return torch.nn.functional.pad(flat, (0, pad)).unflatten(-1, (-1, size))


def block_fisher(model, mask, feed, block_size, batch=32):
    """{name: (blocks, B, B)} empirical Fisher (1/m) sum g g^T of each block of B consecutive
    weights of every masked tensor, from the per-example gradients of the m examples of
    `feed` (pruned entries zeroed), accumulated `batch` examples at a time in float32 (full
    precision matmuls: no TF32 on CUDA)."""
    names = sorted(mask)
    params = dict(model.named_parameters())
    keep = {n: mask[n].to(params[n].device, torch.float32).flatten() for n in names}
    fisher = {n: torch.zeros(math.ceil(params[n].numel() / block_size), block_size, block_size,
                             device=params[n].device) for n in names}
    was_training, precision = model.training, torch.get_float32_matmul_precision()
    model.eval()
    torch.set_float32_matmul_precision("highest")
    try:
        for x, y in feed.batches(batch):
            for name, g in per_example_gradients(model, names, x, y).items():
                g = _blocks(g.float() * keep[name], block_size).transpose(0, 1)  # (blocks, n, B)
                fisher[name].baddbmm_(g.transpose(1, 2), g)
    finally:
        model.train(was_training)
        torch.set_float32_matmul_precision(precision)
    return {n: f / len(feed) for n, f in fisher.items()}


def _inverse(fisher, damp):
    """Inverse of each (F + damp I), in float64."""
    f = fisher.double() + damp * torch.eye(fisher.shape[-1], dtype=torch.float64,
                                          device=fisher.device)
    chol, info = torch.linalg.cholesky_ex(f)
    if info.any():
        raise DiltError(f"baselines.cap.damp: {damp} leaves a block Fisher not positive "
                        f"definite; raise it")
    return torch.cholesky_inverse(chol)


def _remove(w, finv, q, active):
    """One OBS step in place: block b drops weight q[b] where active[b] (1.0, else 0.0), moves
    its other weights by -w_q F^-1 e_q / [F^-1]_qq and deflates its inverse Fisher."""
    rows = torch.arange(len(q), device=q.device)
    col = finv[rows, :, q] * active[:, None]
    d = finv[rows, q, q]
    w -= col * (w[rows, q] / d)[:, None]
    w[rows, q] *= 1 - active
    finv -= col[:, :, None] * (col / d[:, None])[:, None, :]


def eliminate(w, finv, pruned):
    """Greedy OBS elimination of every weight of each block, one at a time.

    w (k, B) weights, finv (k, B, B) inverses of the blocks' damped Fisher, pruned (k, B) the
    entries already pruned (zero): they leave first, at no cost. Returns (order, loss), both
    (k, B): the position removed at each step and the summed saliency w_q^2 / (2 [F^-1]_qq)
    of the steps so far (-inf for the already pruned), non-decreasing along each row.
    """
    w, finv = w.double().clone(), finv.clone()
    k, size = w.shape
    rows = torch.arange(k, device=w.device)
    gone = torch.zeros_like(pruned)
    total = torch.zeros(k, dtype=torch.float64, device=w.device)
    order = torch.empty(k, size, dtype=torch.long, device=w.device)
    loss = torch.empty(k, size, dtype=torch.float64, device=w.device)
    for step in range(size):
        diag = finv.diagonal(dim1=1, dim2=2)
        score = (w**2 / (2 * diag)).clamp_min(0.0).masked_fill(gone, math.inf)
        score = score.masked_fill(pruned & ~gone, -math.inf)
        best, q = score.min(1)
        free = best == -math.inf
        total += torch.where(free, 0.0, best)
        loss[:, step] = torch.where(free, -math.inf, total)
        order[:, step] = q
        gone[rows, q] = True
        if step < size - 1:
            _remove(w, finv, q, torch.ones_like(total))
    return order, loss


def replay(w, finv, order, counts):
    """Weights (k, B) after each block b removes its first counts[b] positions of `order`,
    each removal with the OBS update of the others."""
    w, finv = w.double().clone(), finv.clone()
    for step in range(int(counts.max())):
        _remove(w, finv, order[:, step], (step < counts).double())
    return w


def _chunks(k, size):
    """Block ranges of at most ~2^24 entries of inverse Fisher each (the working memory of
    one elimination pass is a few times that, in float64)."""
    step = max(1, 2**24 // size**2)
    return [slice(i, min(i + step, k)) for i in range(0, k, step)]


def prune(weights, fisher, mask, keep, damp):
    """CAP on given Fisher blocks: for each count in `keep`, (mask keeping that many weights
    over all tensors, their OBS-updated weights, pruned ones exactly zero).

    weights, mask: {name: tensor}; fisher: {name: (blocks, B, B)} as block_fisher gives,
    without the damping, which is added here. The
    blocks' losses are ranked together, ties by tensor name, block and step, so each block
    loses a prefix of its elimination order.
    """
    names = sorted(mask)
    size = fisher[names[0]].shape[-1]
    total = sum(mask[n].numel() for n in names)
    alive = sum(int(mask[n].sum()) for n in names)
    for count in keep:
        if not 0 <= count <= alive:
            raise ValueError(f"cannot keep {count} weights, {alive} of {total} survive")
    w, pruned, orders, losses = {}, {}, {}, {}
    for n in names:
        keep_n = mask[n].to(fisher[n].device).bool().flatten()
        w[n] = _blocks(weights[n].detach().to(keep_n.device).double().flatten() * keep_n, size)
        pruned[n] = _blocks(~keep_n, size)
        pruned[n][-1, size - (-mask[n].numel() % size):] = True  # padding
        parts = [eliminate(w[n][s], _inverse(fisher[n][s], damp), pruned[n][s])
                 for s in _chunks(len(w[n]), size)]
        orders[n] = torch.cat([o for o, _ in parts])
        losses[n] = torch.cat([lo for _, lo in parts])
    ranking = torch.argsort(torch.cat([losses[n].flatten() for n in names]), stable=True)
    blocks = torch.tensor([0] + [len(losses[n]) for n in names]).cumsum(0)
    padding = int(sum(pruned[n].sum() for n in names)) - (total - alive)
    out = []
    for count in keep:
        ranked = ranking[:total + padding - count] // size
        counts = torch.bincount(ranked, minlength=int(blocks[-1]))
        new_mask, new_weights = {}, {}
        for j, n in enumerate(names):
            c = counts[blocks[j]:blocks[j + 1]]
            removed = torch.arange(size, device=c.device)[None, :] < c[:, None]
            keep_block = torch.ones_like(removed).scatter_(1, orders[n], ~removed)
            upd = torch.cat([replay(w[n][s], _inverse(fisher[n][s], damp), orders[n][s], c[s])
                             for s in _chunks(len(w[n]), size)])
            numel, shape = mask[n].numel(), mask[n].shape
            new_mask[n] = keep_block.flatten()[:numel].view(shape).cpu()
            new_weights[n] = (upd.flatten()[:numel].view(shape) * new_mask[n].to(upd.device)
                              ).to(weights[n].device, weights[n].dtype)
        out.append((new_mask, new_weights))
    return out


def one_shot(model, mask, calibration, densities, cfg):
    """CAP once from the model's weights: for each density, (mask keeping round(density *
    total) weights, full state_dict with the OBS-updated weights). One Fisher for all."""
    total = sum(m.numel() for m in mask.values())
    fisher = block_fisher(model, mask, calibration, cfg.block_size)
    params = dict(model.named_parameters())
    results = prune({n: params[n] for n in mask}, fisher, mask,
                    [round(d * total) for d in densities], cfg.damp)
    out = []
    for new_mask, new_weights in results:
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state.update({n: v.to(state[n].device) for n, v in new_weights.items()})
        out.append((new_mask, state))
    return out


def schedule(start, targets, steps):
    """Pruning-step densities: `steps` geometric steps from `start` to the first (densest)
    target, then `steps` from each target to the next."""
    out, previous = [], start
    for target in sorted(targets, reverse=True):
        out += [previous * (target / previous) ** (i / steps) for i in range(1, steps)]
        out.append(target)
        previous = target
    return out


def gradual(model, mask, feed, densities, cfg, train_cfg, seed, log=print):
    """Gradual CAP from the model's (trained) weights: prune by one_shot (a fresh calibration
    sample of cfg.num_grads training examples each time) to every density of schedule(),
    fine-tune cfg.epochs epochs under the new mask (train.train with train_cfg) after each
    step. Returns [(density, mask, state_dict)] at each of `densities`, after the fine-tuning
    that follows its step. The model ends with the weights of the last step."""
    total = sum(m.numel() for m in mask.values())
    start = sum(int(m.sum()) for m in mask.values()) / total
    targets = sorted(densities, reverse=True)
    if targets[0] > start:
        raise DiltError(f"CAP target density {targets[0]} above the starting density {start}")
    devices.prepare(model, feed.device)
    out = []
    for i, density in enumerate(schedule(start, targets, cfg.steps)):
        step_seed = seeding.job_seed(seed, "cap", i)
        sample = calibration_sample(feed, cfg.num_grads, step_seed)
        [(mask, state)] = one_shot(model, mask, sample, [density], cfg)
        model.load_state_dict(state)
        if cfg.epochs:
            train.train(model, mask, feed, {**train_cfg, "epochs": cfg.epochs}, step_seed, log=log)
        log(f"CAP step {i}: density {density:.4f}")
        if len(out) < len(targets) and density == targets[len(out)]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            out.append((density, mask, state))
    return out
