"""SAViT (Zheng et al., NeurIPS 2022): structured ViT pruning by a second-order Taylor
estimate of the loss change that counts the interactions between the removed units.

Each unit (attention head, FFN neuron, embedding channel: dilt.vit_structure) gets a
multiplicative gate, 1 in the trained network, applied where its weights act: a head's
gate scales its slice of the attention output before proj; a neuron's scales its input to
fc2; a channel's scales its column of every qkv and fc1 input and its row of every
patch_embed, attn.proj and fc2 output (bias excluded), so gate 0 is exactly the masked
network of vit_structure. Removing a set S of units moves the gates by -1_S, and a
second-order Taylor expansion of an objective L gives

    dL(S) ~= -gbar . 1_S + 1/2 1_S' H 1_S,

gbar the gradient and H the Hessian over all gates, from a seeded calibration sample of
training examples. Two objectives (setting `objective`):
- "loss" (the paper's): the cross-entropy of the labels, H approximated by the empirical
  Fisher mean_n g_n g_n' of the per-example gate gradients;
- "logits" (default): the distortion 1/2 |z_S - z|^2 of the network's logits. Its gradient
  is zero at the trained network and its Hessian there is exactly J'J (Gauss-Newton,
  J = dz/dgate per example), so dL(S) = 1/2 mean_n |J_n 1_S|^2 with no approximation beyond
  the expansion. On a network that fits its training data (vit_mini on digits, seed 0,
  training loss 0.001) the label loss's gradients vanish: its single-unit predictions
  missed the measured loss change by ~1000x for heads and channels, with rank correlations
  -0.39 (heads) and -0.05 (channels); the logit distortion ranked the measured loss
  changes at 0.67 / 0.77 / 0.86 (heads / neurons / channels) and 0.86 over all units.
Either way H is a sum of outer products of rows r (1/2 1_S' H 1_S = 1/2 mean_r (r . 1_S)^2),
so every cross term, between units of one component, across components (heads x neurons x
channels, the paper's collaborative term) and across blocks, is included and is updated in
O(rows) per removal.

Budget allocation. The paper estimates a 3 x 3 Hessian between the components (heads,
neurons, channels) from Hessian-vector products, searches the three pruning ratios with an
evolutionary algorithm under the FLOPs constraint and prunes each component by a global
threshold on per-unit scores. Here the objective is minimised directly over units:
greedily, each step removes the unit with the smallest marginal dL per FLOP (or per
parameter) it saves, with the interaction terms of the units already removed included, until
the budget is met. With H in that form every unit-level cross term is at hand, so the
allocation across components and blocks comes out of one deterministic search with no
population or generation settings (and the first-order term, which the paper's search
drops, is kept). At least one embedding channel is always kept.

Controls: uniform structured pruning (the same share of every component's units in every
block, lowest score first: L1 norms or random scores) and removal with given per-block
counts, both matched to the same budget.
"""

import copy
from collections import Counter
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from . import vit_structure as vs
from .io import DiltError

COMPONENTS = {"heads": "head", "neurons": "neuron", "channels": "channel"}


def kinds(components):
    """Unit kinds from config names (heads, neurons, channels)."""
    return tuple(COMPONENTS[c] for c in components)


def _scale_input(gate):
    def hook(module, args):
        return (args[0] * gate[:, None, :],) + args[1:]
    return hook


def _scale_output(gate, channel_dim):
    """Scale out - bias by the gate along `channel_dim` (1: conv maps, -1: token rows)."""
    def hook(module, args, out):
        shape = [gate.shape[0]] + [1] * (out.dim() - 1)
        shape[channel_dim] = gate.shape[1]
        bias = 0 if module.bias is None else module.bias.view(
            [-1 if d == channel_dim % out.dim() else 1 for d in range(out.dim())])
        return (out - bias) * gate.view(shape) + bias
    return hook


@contextmanager
def _gated(model, structure, gates):
    """Hooks that apply per-example gates {kind: tensor} while the model runs: head
    (batch, depth, heads), neuron (batch, depth, hidden), channel (batch, dim)."""
    handles = []
    hd = structure.head_dim
    try:
        channel = gates.get("channel")
        if channel is not None:
            handles.append(model.patch_embed.proj.register_forward_hook(
                _scale_output(channel, 1)))
        for i, block in enumerate(model.blocks):
            if "head" in gates:
                per_dim = gates["head"][:, i].repeat_interleave(hd, dim=1)
                handles.append(block.attn.proj.register_forward_pre_hook(_scale_input(per_dim)))
            if "neuron" in gates:
                handles.append(block.mlp.fc2.register_forward_pre_hook(
                    _scale_input(gates["neuron"][:, i])))
            if channel is not None:
                for module in (block.attn.qkv, block.mlp.fc1):
                    handles.append(module.register_forward_pre_hook(_scale_input(channel)))
                for module in (block.attn.proj, block.mlp.fc2):
                    handles.append(module.register_forward_hook(_scale_output(channel, -1)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def calibration_indices(n, examples, seed):
    """A seeded choice of min(examples, n) of n training examples, in increasing order."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=gen)[:examples].sort().values


def taylor_terms(model, structure, feed, unit_kinds, batch_size, objective="logits",
                 directions=16, seed=0):
    """(units, first, rows) of the units of `unit_kinds`: dL(S) ~= first . 1_S + 1/2 mean over
    rows r of (r . 1_S)^2, float64 on the CPU, from the gate gradients at gate = 1.

    objective "loss": the cross-entropy of the labels; rows are each example's gradient
    (empirical Fisher), first = minus their mean. objective "logits": the distortion
    1/2 |z_S - z|^2 of the logits z; its gradient is zero and its Hessian at the trained
    network is exactly J'J (Gauss-Newton, J = dz/dgates), so first = 0 and the rows are
    sqrt(classes) e_c' J per example and class (exact; when classes <= `directions`) or v' J
    for `directions` seeded standard-normal v per example (mean of (v' J d)^2 = |J d|^2).
    Memory: examples x min(classes, directions) x units float64.
    """
    units = structure.units(unit_kinds)
    sizes = {"head": (structure.depth, structure.heads),
             "neuron": (structure.depth, structure.hidden), "channel": (structure.dim,)}
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    rows = []
    try:
        for x, y in feed.batches(batch_size):
            gates = {k: torch.ones((len(y), *sizes[k]), device=device, requires_grad=True)
                     for k in vs.KINDS if k in unit_kinds}
            with _gated(model, structure, gates):
                z = model(x.to(device))
            if objective == "loss":
                outputs = [nn.functional.cross_entropy(z, y.to(device), reduction="sum")]
            elif z.shape[1] <= directions:
                outputs = [z[:, c].sum() * z.shape[1] ** 0.5 for c in range(z.shape[1])]
            else:
                v = torch.randn((directions, *z.shape), generator=gen).to(device)
                outputs = [(v[d] * z).sum() for d in range(directions)]
            for i, out in enumerate(outputs):
                grads = torch.autograd.grad(out, list(gates.values()),
                                            retain_graph=i < len(outputs) - 1)
                rows.append(torch.cat([g.flatten(1) for g in grads], 1).double().cpu())
    finally:
        model.train(was_training)
    rows = torch.cat(rows)
    first = -rows.mean(0) if objective == "loss" else torch.zeros(len(units), dtype=torch.float64)
    return units, first, rows


def _kept_counts(structure):
    return {"head": [structure.heads] * structure.depth,
            "neuron": [structure.hidden] * structure.depth, "channel": structure.dim}


def _cost(structure, kept, budget):
    return vs.structured_cost(structure, kept["head"], kept["neuron"], kept["channel"])[budget]


def _savings(structure, kept, budget):
    """{(kind, block): cost saved by removing one more unit of that kind there}."""
    now = _cost(structure, kept, budget)
    out = {}
    for kind in ("head", "neuron"):
        for i in range(structure.depth):
            fewer = dict(kept, **{kind: [c - (b == i) for b, c in enumerate(kept[kind])]})
            out[kind, i] = now - _cost(structure, fewer, budget)
    out["channel", -1] = now - _cost(structure, dict(kept, channel=kept["channel"] - 1), budget)
    return out


def _remove(kept, unit):
    if unit.kind == "channel":
        kept["channel"] -= 1
    else:
        kept[unit.kind][unit.block] -= 1


class _Search:
    """State of the greedy search: removed units, kept counts, cost, predicted dL."""

    def __init__(self, first, rows, units, structure, budget, interactions):
        self.g = torch.as_tensor(rows, dtype=torch.float64)
        self.first = torch.as_tensor(first, dtype=torch.float64)
        self.self_term = (self.g * self.g).mean(0) / 2
        self.units, self.structure, self.budget = units, structure, budget
        self.interactions = interactions
        self.groups = [(u.kind, u.block) for u in units]
        self.is_channel = torch.tensor([u.kind == "channel" for u in units])
        self.alive = torch.ones(len(units), dtype=torch.bool)
        self.kept = _kept_counts(structure)
        self.cost = _cost(structure, self.kept, budget)
        self.total = torch.zeros(self.g.shape[0], dtype=torch.float64)
        self.linear, self.loss, self.order = 0.0, 0.0, []

    def copy(self):
        other = copy.copy(self)
        other.alive, other.total = self.alive.clone(), self.total.clone()
        other.kept = {k: list(v) if isinstance(v, list) else v for k, v in self.kept.items()}
        other.order = list(self.order)
        return other

    def terms(self, stop):
        """(marginal dL, cost saved, ratio (inf where not removable), finishing: removable
        units that alone bring the cost to `stop`) of every unit."""
        saving = _savings(self.structure, self.kept, self.budget)
        per_unit = torch.tensor([float(saving[key]) for key in self.groups],
                                dtype=torch.float64)
        marginal = self.first + self.self_term
        if self.interactions:
            marginal = marginal + self.g.T @ self.total / self.g.shape[0]
        blocked = ~self.alive
        if self.kept["channel"] == 1:
            blocked = blocked | self.is_channel
        ratio = torch.where(blocked, torch.inf, marginal / per_unit)
        return marginal, ratio, ~blocked & (per_unit >= self.cost - stop)

    def remove(self, u):
        self.alive[u] = False
        _remove(self.kept, self.units[u])
        self.cost = _cost(self.structure, self.kept, self.budget)
        self.total += self.g[:, u]
        self.linear += float(self.first[u])
        self.loss = self.linear + float(self.total @ self.total) / (2 * self.g.shape[0])
        self.order.append(u)

    def finish(self, stop, small_first):
        """Remove units until the cost is at most `stop`: with small_first, the best-ranked
        unit that alone does not reach it while there is one; otherwise (and then) the unit
        with the smallest marginal dL of those that alone reach it."""
        while self.cost > stop:
            marginal, ratio, finishing = self.terms(stop)
            small = torch.where(finishing, torch.inf, ratio)
            if small_first and not torch.isinf(small).all():
                self.remove(int(torch.argmin(small)))
            elif finishing.any():
                self.remove(int(torch.argmin(torch.where(finishing, marginal, torch.inf))))
            else:
                return self
        return self


def removal_sets(first, rows, units, structure, budget, stops, units_per_step=1,
                 interactions=True):
    """Greedy minimisation of dL(S) = first . 1_S + 1/2 mean_r (r . 1_S)^2 under each bound
    in `stops` on the `budget` cost ("flops" or "params", vit_structure.structured_cost).

    Each step ranks the remaining units by marginal dL / cost saved (with the cross terms of
    the units already removed) and removes the `units_per_step` best, one by one, short of
    any unit that alone would reach the bound. When the best-ranked unit would reach it, the
    search ends with the better (lower predicted dL) of two endings: the unit of smallest
    marginal dL among all that alone reach the bound, or smaller units first (the
    best-ranked of those that do not reach it alone, while there are any), then that
    choice. The search then goes on from before that ending
    to the next, lower bound, so the sets are nested up to their endings. Returns, per bound,
    (unit indices in removal order, cost, predicted dL); a bound that cannot be reached
    (all but one channel gone) gives the closest set. interactions=False ranks by each
    unit's own terms only (an ablation; the reported dL includes the cross terms).
    """
    search = _Search(first, rows, units, structure, budget, interactions)
    out = {}
    for stop in sorted(set(stops), reverse=True):
        while search.cost > stop:
            _, ratio, finishing = search.terms(stop)
            if torch.isinf(ratio).all():
                break
            ranked = torch.argsort(ratio, stable=True)
            if finishing[ranked[0]]:
                break
            for u in ranked[:units_per_step].tolist():
                if finishing[u] or search.cost <= stop:
                    break
                search.remove(u)
        endings = [search.copy().finish(stop, small) for small in (False, True)]
        reached = [e for e in endings if e.cost <= stop] or endings
        best = min(reached, key=lambda e: e.loss)
        out[stop] = (best.order, best.cost, best.loss)
    return [out[stop] for stop in stops]


def _stop(structure, budget, target):
    """Cost bound of a target: a FLOPs reduction (budget flops) or a prunable-weight density
    (budget params)."""
    dense = _cost(structure, _kept_counts(structure), budget)
    return (1 - target) * dense if budget == "flops" else target * dense


def savit_masks(model, names, feed, settings, seed, budget, targets):
    """One-shot SAViT masks of a trained timm ViT, one per target.

    `feed`: training examples (the calibration sample is drawn from them); `names`: the
    model's prunable weights (models.prunable_names; all unit weights, nothing else);
    `settings` (config baselines.savit): examples, batch_size, components, objective,
    directions, units_per_step, interactions;
    `budget` "flops" (targets are FLOPs reductions, e.g. 0.3) or "params" (targets are
    prunable-weight densities, e.g. 0.5). The masks are nested up to the last few units
    of each (removal_sets). Returns [(mask of torch bools, info)], info =
    vit_structure.summary plus the target and `predicted_change`, the predicted dL of the
    objective (logits: half the mean squared distortion of the logits).
    """
    if settings["objective"] not in ("logits", "loss"):
        raise DiltError(f"baselines.savit.objective: 'logits' or 'loss', got "
                        f"'{settings['objective']}'")
    unknown = sorted(set(settings["components"]) - set(COMPONENTS))
    if unknown or not settings["components"]:
        raise DiltError(f"baselines.savit.components: a non-empty list of "
                        f"{sorted(COMPONENTS)}, got {settings['components']}")
    structure = vs.ViTStructure.from_model(model)
    vs.check_prunable(structure, names)
    calib = feed.subset(calibration_indices(len(feed), settings["examples"], seed))
    units, first, rows = taylor_terms(model, structure, calib, kinds(settings["components"]),
                                      settings["batch_size"], settings["objective"],
                                      settings["directions"], seed)
    stops = [_stop(structure, budget, t) for t in targets]
    sets = removal_sets(first, rows, units, structure, budget, stops,
                        settings["units_per_step"], settings["interactions"])
    out = []
    for target, (order, _, loss) in zip(targets, sets, strict=True):
        removed = [units[u] for u in order]
        mask = vs.structured_mask(structure, removed)
        info = vs.summary(structure, mask, removed)
        info.update({"budget": budget, "target": target, "predicted_change": loss})
        out.append((mask, info))
    return out


def l1_scores(model, structure, units):
    """Sum of |w| over each unit's weights (ViTStructure.unit_weights), float64."""
    params = dict(model.named_parameters())
    return torch.tensor([sum(float(params[n].detach()[i].abs().sum())
                             for n, i in structure.unit_weights(u)) for u in units],
                        dtype=torch.float64)


def lowest_in_groups(units, scores, counts):
    """The counts[(kind, block)] lowest-scored units of each group (ties: first listed)."""
    out = []
    for key, count in counts.items():
        members = [i for i, u in enumerate(units) if (u.kind, u.block) == key]
        ranked = sorted(members, key=lambda i: (float(scores[i]), i))
        out += [units[i] for i in ranked[:count]]
    return out


def uniform_counts(units, fraction):
    """{(kind, block): round(fraction * units in the group)}: the same share everywhere."""
    sizes = Counter((u.kind, u.block) for u in units)
    return {key: round(fraction * size) for key, size in sizes.items()}


def uniform_removal(structure, units, scores, budget, target):
    """Uniform structured pruning matched to a target (as savit_masks): the smallest share
    f (bisection) whose lowest-scored round(f n) units of every group reach the budget.
    Returns the removed units; at least one channel is kept."""
    stop = _stop(structure, budget, target)

    def removed(fraction):
        counts = uniform_counts(units, fraction)
        if ("channel", -1) in counts:
            counts["channel", -1] = min(counts["channel", -1], structure.dim - 1)
        return lowest_in_groups(units, scores, counts)

    def cost(fraction):
        kept = _kept_counts(structure)
        for u in removed(fraction):
            _remove(kept, u)
        return _cost(structure, kept, budget)

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if cost(mid) <= stop else (mid, hi)
    return removed(hi)


def random_scores(units, seed):
    """Uniform random scores, seeded: with lowest_in_groups, a random choice per group."""
    return torch.as_tensor(np.random.default_rng(seed).random(len(units)))
