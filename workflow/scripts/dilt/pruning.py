"""Pruning: magnitude (a fraction of the survivors, global or per layer), COLT, top-k scores."""

import torch


def _smallest(magnitudes, count):
    """Indices of the `count` smallest entries (stable: ties broken by position)."""
    return torch.argsort(magnitudes, stable=True)[:count]


def magnitude_prune(weights, mask, fraction, scope="global", rates=None):
    """Return a new mask with round(fraction * survivors) more weights removed by |w|.

    `weights` and `mask` map prunable parameter names to tensors; masks only shrink.
    scope="global" ranks survivors across all tensors, "layer" within each tensor. `rates`
    maps tensors pruned at their own relative rate (the output layer under imp.head_rate:
    Frankle & Carbin prune it at half the rate) to that rate: each such tensor loses
    round(rate * fraction * its survivors), ranked within itself, outside the global ranking.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"pruning fraction must be in (0, 1), got {fraction}")
    rates = rates or {}
    names = sorted(n for n in mask if n not in rates)
    new = {n: mask[n].clone().bool() for n in mask}
    groups = [(names, fraction)] if scope == "global" else [([n], fraction) for n in names]
    groups += [([n], fraction * rate) for n, rate in sorted(rates.items()) if rate > 0]
    for group, share in groups:
        alive = [new[n].flatten().nonzero().squeeze(1) for n in group]
        mags = torch.cat([weights[n].detach().flatten().abs()[idx].float()
                          for n, idx in zip(group, alive, strict=True)])
        count = round(share * mags.numel())
        if count == 0:
            continue
        drop = _smallest(mags, count)
        offsets = torch.cumsum(torch.tensor([0] + [len(i) for i in alive]), 0)
        for j, n in enumerate(group):
            lo, hi = offsets[j], offsets[j + 1]
            local = drop[(drop >= lo) & (drop < hi)] - lo
            new[n].view(-1)[alive[j][local]] = False
    return new


def colt_prune(weights, masks, fraction, scope="global", rates=None):
    """COLT's shared mask: each chain prunes its own weights under its mask; AND of the results.

    `weights` and `masks` hold one dict per chain (in COLT every chain enters a round with
    the same shared mask, so each result is a subset of it).
    """
    pruned = [magnitude_prune(w, m, fraction, scope, rates)
              for w, m in zip(weights, masks, strict=True)]
    return {n: torch.stack([p[n] for p in pruned]).all(0) for n in sorted(pruned[0])}


def keep_top(scores, count):
    """Mask keeping the `count` highest scores over all tensors (ties broken by position)."""
    names = sorted(scores)
    flat = torch.cat([scores[n].detach().flatten().float() for n in names])
    if not 0 <= count <= flat.numel():
        raise ValueError(f"cannot keep {count} of {flat.numel()} weights")
    keep = torch.zeros(flat.numel(), dtype=torch.bool)
    keep[torch.argsort(-flat, stable=True)[:count]] = True
    out, start = {}, 0
    for n in names:
        size = scores[n].numel()
        out[n] = keep[start:start + size].view(scores[n].shape)
        start += size
    return out
