"""Probe-set representations of a model's layers via forward hooks."""

import torch


@torch.no_grad()
def layer_outputs(model, layers, x, batch_size=512):
    """Flattened outputs of the named modules for inputs x: {layer: (n, features) tensor}."""
    modules = dict(model.named_modules())
    chunks = {name: [] for name in layers}
    hooks = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: chunks[name].append(out.flatten(1).float()))
        for name in layers]
    model.eval()
    try:
        for i in range(0, len(x), batch_size):
            model(x[i:i + batch_size])
    finally:
        for hook in hooks:
            hook.remove()
    return {name: torch.cat(parts) for name, parts in chunks.items()}
