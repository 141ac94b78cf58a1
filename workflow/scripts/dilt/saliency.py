"""Pruning at initialisation: SNIP (|g * w|) and GraSP (-(H g) * w) saliency scores.

Both take `losses`, a function returning an iterable of scalar losses whose sum is the
objective (e.g. one term per batch, each the batch's summed loss divided by the data size),
and `weights`, a dict of the parameters to differentiate. Scores come back per weight name.
"""

import torch


def gradient(losses, weights, create_graph=False):
    """d(sum of losses)/d(weights), accumulated term by term, as a list in `weights` order."""
    params = list(weights.values())
    total = [torch.zeros_like(p) for p in params]
    for loss in losses():
        for acc, g in zip(total, torch.autograd.grad(loss, params, create_graph=create_graph),
                          strict=True):
            acc += g
    return total


def snip_scores(losses, weights):
    """SNIP connection sensitivity |dL/dw * w| (Lee et al. 2019); prune the lowest."""
    grads = gradient(losses, weights)
    return {n: (g * w).abs().detach()
            for (n, w), g in zip(weights.items(), grads, strict=True)}


def hessian_gradient(losses, weights):
    """H g, the Hessian of the objective times its gradient, by double back-propagation."""
    params = list(weights.values())
    g = [x.detach() for x in gradient(losses, weights)]
    total = [torch.zeros_like(p) for p in params]
    for loss in losses():
        grads = torch.autograd.grad(loss, params, create_graph=True)
        z = sum((a * b).sum() for a, b in zip(grads, g, strict=True))
        for acc, hg in zip(total, torch.autograd.grad(z, params), strict=True):
            acc += hg
    return total


def grasp_scores(losses, weights):
    """GraSP scores -(H g) * w (Wang et al. 2020): half the first-order change of |g|^2 when the
    weight is set to zero. GraSP removes the HIGHEST scores (they reduce gradient flow least)."""
    hg = hessian_gradient(losses, weights)
    return {n: (-(h * w)).detach() for (n, w), h in zip(weights.items(), hg, strict=True)}
