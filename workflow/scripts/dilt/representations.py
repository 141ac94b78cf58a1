"""Probe-set representations of a model's layers via forward hooks, in bounded memory.

Each layer's output is flattened per example; transformer tokens (N, T, C) are first pooled
as `token_pooling` says: "all" keeps every token, "mean" averages the non-prefix tokens,
"cls" keeps the class token. A representation wider than `max_features` is mapped to
`max_features` by a count sketch (feature hashing: each feature is added, with a random
sign, to one random bucket). The sketch preserves inner products and squared distances in
expectation (relative standard deviation about sqrt(2 / max_features) on a squared
distance), needs O(width) memory, and is applied batch by batch, so a layer costs at most
n x max_features floats however large its activations are.
"""

import torch

from .seeding import job_seed

POOLINGS = ("all", "mean", "cls")


class CountSketch:
    """A seeded random map of `width` features onto `features` signed buckets."""

    def __init__(self, width, features, seed, device):
        gen = torch.Generator().manual_seed(seed)
        self.bucket = torch.randint(features, (width,), generator=gen).to(device)
        self.sign = (torch.randint(2, (width,), generator=gen) * 2 - 1).float().to(device)
        self.features = features

    def __call__(self, x):
        out = x.new_zeros(x.shape[0], self.features)
        return out.index_add_(1, self.bucket, x * self.sign)


class Reducer:
    """Turns one layer's batch outputs into (batch, <= max_features) float32 rows."""

    def __init__(self, name, max_features, token_pooling="all", prefix_tokens=0):
        if token_pooling not in POOLINGS:
            raise ValueError(f"token_pooling must be one of {POOLINGS}, got '{token_pooling}'")
        self.name, self.max_features = name, max_features
        self.pooling, self.prefix = token_pooling, prefix_tokens
        self.sketch = None

    def __call__(self, out):
        out = out.float()
        if out.dim() == 3 and self.pooling == "mean":
            out = out[:, self.prefix:].mean(1)
        elif out.dim() == 3 and self.pooling == "cls":
            out = out[:, 0]
        out = out.flatten(1)
        if out.shape[1] <= self.max_features:
            return out
        if self.sketch is None:
            self.sketch = CountSketch(out.shape[1], self.max_features,
                                      job_seed("sketch", self.name), out.device)
        return self.sketch(out)


@torch.no_grad()
def layer_outputs(model, layers, data, max_features=4096, token_pooling="all", batch_size=64):
    """{layer: (n, features) float32 CPU tensor} for every example of the feed `data`.

    The model runs in eval mode in float32 on its own device; `token_pooling` applies to the
    (N, tokens, channels) outputs of token models (timm ViTs, which have num_prefix_tokens).
    """
    from . import devices

    modules = dict(model.named_modules())
    if not hasattr(model, "num_prefix_tokens"):  # not a token model: (N, C, L) is no token map
        token_pooling = "all"
    prefix = getattr(model, "num_prefix_tokens", 0)
    reducers = {name: Reducer(name, max_features, token_pooling, prefix) for name in layers}
    chunks = {name: [] for name in layers}

    def hook(name):
        def keep(_module, _inputs, out):
            chunks[name].append(reducers[name](out).cpu())
        return keep

    hooks = [modules[name].register_forward_hook(hook(name)) for name in layers]
    model.eval()
    try:
        for x, _ in data.batches(batch_size):
            model(devices.to_input(x))
    finally:
        for handle in hooks:
            handle.remove()
    return {name: torch.cat(parts) for name, parts in chunks.items()}
