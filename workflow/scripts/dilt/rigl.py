"""RigL dynamic sparse training (Evci et al. 2020): layer densities, drop/regrow, the hook."""

import math

import torch


def uniform_densities(shapes, density):
    """Every layer at the same density."""
    return {n: density for n in shapes}


def erk_densities(shapes, density):
    """Erdos-Renyi-Kernel: layer density proportional to sum(shape) / prod(shape), scaled so
    that the overall density is `density`; a layer that would exceed 1 is made dense and the
    others are rescaled (largest first, repeated until none exceeds 1)."""
    size = {n: math.prod(s) for n, s in shapes.items()}
    total, dense = sum(size.values()), set()
    while True:
        raw = {n: sum(shapes[n]) / size[n] for n in shapes if n not in dense}
        if not raw:
            break
        budget = density * total - sum(size[n] for n in dense)
        scale = budget / sum(raw[n] * size[n] for n in raw)
        over = [n for n in raw if scale * raw[n] > 1]
        if not over:
            break
        dense.add(max(over, key=raw.get))
    return {n: 1.0 if n in dense else scale * raw[n] for n in shapes}


DISTRIBUTIONS = {"erk": erk_densities, "uniform": uniform_densities}


def layer_counts(shapes, distribution, density):
    """Kept weights per layer for an overall `density` under "erk" or "uniform"."""
    densities = DISTRIBUTIONS[distribution](shapes, density)
    return {n: round(densities[n] * math.prod(s)) for n, s in shapes.items()}


def update_fraction(step, alpha, end):
    """Cosine-decayed share of a layer's active weights replaced at `step` (0 from `end` on)."""
    return alpha / 2 * (1 + math.cos(math.pi * step / end)) if step < end else 0.0


def drop_grow(weight, grad, mask, count):
    """Drop the `count` active weights with the smallest |w|, then activate the `count` inactive
    ones (just-dropped included) with the largest |grad|: the number kept is unchanged."""
    new = mask.flatten().clone()
    active = new.nonzero().squeeze(1)
    count = min(count, len(active))
    drop = active[torch.argsort(weight.detach().flatten().abs()[active], stable=True)[:count]]
    new[drop] = False
    idle = (~new).nonzero().squeeze(1)
    grow = idle[torch.argsort(-grad.flatten().abs()[idle], stable=True)[:count]]
    new[grow] = True
    return new.view(mask.shape)


class RigL:
    """Training hook (see train.train): every `every` steps before step `end`, each layer drops
    and regrows update_fraction * (its active weights). Changed weights and their optimizer
    state (momentum, Adam moments) are set to zero: dropped weights vanish, grown ones start
    at zero. Its counters survive a resumed run through state_dict / load_state_dict; the
    masks are training state (train.train checkpoints them)."""

    def __init__(self, alpha, every, end):
        self.alpha, self.every, self.end = alpha, every, end
        self.masks, self.updates, self.regrown = None, 0, 0

    def __call__(self, step, model, masks, opt):
        self.masks = masks
        if step == 0 or step % self.every or step >= self.end:
            return
        fraction = update_fraction(step, self.alpha, self.end)
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, m in masks.items():
                param, old = params[name], m.bool()
                new = drop_grow(param, param.grad, old, int(fraction * int(old.sum())))
                changed = new != old
                param[changed] = 0
                for buffer in opt.state.get(param, {}).values():  # momentum, Adam moments
                    if torch.is_tensor(buffer) and buffer.shape == param.shape:
                        buffer[changed] = 0
                m.copy_(new)
                self.regrown += int((new & ~old).sum())
        self.updates += 1

    def state_dict(self):
        return {"updates": self.updates, "regrown": self.regrown}

    def load_state_dict(self, state):
        self.updates, self.regrown = state["updates"], state["regrown"]
