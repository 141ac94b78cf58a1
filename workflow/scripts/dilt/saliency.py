"""Pruning at initialisation: SNIP (|g * w|) and GraSP (-(H g) * w) saliency scores.

Both take `losses`, a function returning an iterable of scalar losses whose sum is the
objective (e.g. one term per batch, each the batch's summed loss divided by the data size),
and `weights`, a dict of the parameters to differentiate. Scores come back per weight name.

The sample they score is fixed: `balanced_indices` draws a seeded, class-balanced sample
whose every run of C consecutive examples holds each of the C classes once, `materialise`
reads it once into tensors (so GraSP's two passes see the same examples with the same
transform), and `keep_scores` scores it under `scoring_mode` with GraSP's temperature.
"""

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .devices import to_input
from .io import DiltError

BATCHNORM = ("batch", "running")
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


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


def balanced_indices(labels, per_class=None, seed=0, total=None):
    """Indices of a seeded, class-balanced sample of `labels`.

    `per_class` examples of every class present (None: as many as the smallest class has),
    or `total` examples split evenly, the remainder one each to classes in a seeded order.
    Each class's examples are a seeded random choice; the sample is laid out in rounds
    holding one example of every class, classes in a fresh seeded order each round, so any
    batch of a multiple of C consecutive examples is exactly balanced.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    if total is not None:
        if per_class is not None:
            raise DiltError("saliency sample: give per_class or total, not both")
        take = np.full(len(classes), total // len(classes))
        take[rng.permutation(len(classes))[: total % len(classes)]] += 1
    else:
        take = np.full(len(classes), min(map(len, members)) if per_class is None else per_class)
    short = [int(c) for c, m, t in zip(classes, members, take, strict=True) if len(m) < t]
    if short:
        raise DiltError(f"saliency sample: class {short[0]} has fewer than the "
                        f"{int(take.max())} examples per class asked for")
    order = []
    for j in range(int(take.max(initial=0))):
        order += [members[c][j] for c in rng.permutation(len(classes)) if take[c] > j]
    return torch.as_tensor(np.array(order, dtype=np.int64))


def materialise(feed, indices, batch_size):
    """The examples `indices` of a feed as tensors (x, y) on its device, in `indices` order,
    read in one pass. A disk feed must be built with the evaluation (deterministic)
    transform: with training augmentation the sample would depend on the draw."""
    xs, ys = zip(*feed.subset(indices).batches(batch_size), strict=True)
    return torch.cat(xs), torch.cat(ys)


@contextmanager
def scoring_mode(model, batchnorm="batch"):
    """The model in evaluation mode (dropout, drop-path off), except its BatchNorm layers.

    batchnorm="batch": BatchNorm normalises each batch by its own statistics, as in the
    first training steps; at theta0 the running statistics are their initial values (mean
    0, variance 1), not the data's, so "running" (plain eval mode) scores a network whose
    normalisation layers are identities. The running statistics are restored on exit, as
    are all modules' train/eval flags.
    """
    if batchnorm not in BATCHNORM:
        raise DiltError(f"baselines.saliency.batchnorm: '{batchnorm}' is not one of "
                        f"{', '.join(BATCHNORM)}")
    flags = {m: m.training for m in model.modules()}
    norms = [m for m in model.modules() if isinstance(m, _NORMS)]
    saved = [{n: b.clone() for n, b in m.named_buffers(recurse=False)} for m in norms]
    model.eval()
    for m in norms:
        m.train(batchnorm == "batch")
    try:
        yield model
    finally:
        with torch.no_grad():
            for m, buffers in zip(norms, saved, strict=True):
                for n, b in m.named_buffers(recurse=False):
                    b.copy_(buffers[n])
        for m, flag in flags.items():
            m.training = flag


def sample_losses(model, x, y, batch_size, temperature=1.0):
    """`losses` over a fixed sample: per batch of consecutive examples, the summed
    cross-entropy of logits / temperature divided by the sample size."""

    def losses():
        for start in range(0, len(y), batch_size):
            logits = model(to_input(x[start:start + batch_size]))
            yield F.cross_entropy(logits / temperature, y[start:start + batch_size],
                                  reduction="sum") / len(y)

    return losses


def keep_scores(kind, model, weights, x, y, batch_size, temperature=200.0, batchnorm="batch"):
    """Scores for `pruning.keep_top` (keep the highest) on the sample (x, y).

    snip: |g w| of the plain cross-entropy. grasp: (H g) w, minus the GraSP score (GraSP
    removes the highest -(H g) w), of the cross-entropy of logits / temperature (Wang et al.
    2020 use T = 200: it softens the saturated softmax of an untrained network), for both
    the gradient and the Hessian-gradient pass. `weights` are the parameters differentiated.
    """
    with scoring_mode(model, batchnorm):
        if kind == "snip":
            return snip_scores(sample_losses(model, x, y, batch_size), weights)
        if kind == "grasp":
            scores = grasp_scores(sample_losses(model, x, y, batch_size, temperature), weights)
            return {n: -s for n, s in scores.items()}
    raise DiltError(f"saliency: unknown kind '{kind}' (snip or grasp)")
