"""One round of iterative magnitude pruning: the round's mask and the check that pruned
weights stayed zero (late rewinding: dilt.rewind)."""

import torch

from . import pruning


def dense_mask(model, names):
    """Round 0: every prunable weight kept."""
    return {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters()
            if n in names}


def round_mask(previous, trained, fraction, scope, rates=None):
    """mask_r from round r-1 of the chains it reads (methods.round_sources): each chain's
    trained weights pruned by magnitude under its mask, then the AND over chains (one chain:
    its own pruned mask; COLT: the shared mask); `rates`: tensors pruned at their own
    relative rate (pruning.magnitude_prune)."""
    return pruning.colt_prune(trained, previous, fraction, scope, rates)


def pruned_nonzero(model, mask):
    """Number of pruned weights that are not exactly zero (0 after correct masked training)."""
    params = dict(model.named_parameters())
    return int(sum(int((params[n].detach().cpu()[~m] != 0).sum()) for n, m in mask.items()))


def layer_density(mask):
    """{parameter name: kept fraction}."""
    return {n: float(m.float().mean()) for n, m in mask.items()}

