"""Tickets at a matched real density: a partial next IMP round of the right source round.

For a target density t over N prunable weights, a ticket is matched by taking the sparsest
IMP round whose ticket keeps at least round(t N) weights and trimming it to exactly that
count in the order its chains' next magnitude round would prune. The trimmed ticket stays
inside its set-algebra definition at that round (core inside the AND, a specialist inside
m_k minus the others, the union inside the OR). A ticket that never keeps round(t N) weights
is infeasible at t and is reported, never topped up with weights outside its definition.

Masks and weights are dicts of numpy arrays keyed by the prunable weights' names
(`io.load_arrays`); tensors and arrays are ordered by sorted name, so ties are broken by the
position in that flattening, as in `pruning.magnitude_prune` and `pruning.keep_top`.
"""

import numpy as np

from . import masks as algebra
from .io import DiltError

KINDS = ("own", "core", "union", "specialist")


def _flat(arrays, keys):
    return np.concatenate([np.asarray(arrays[k]).ravel() for k in keys])


def _unflat(flat, like):
    keys = sorted(like)
    sizes = [int(np.prod(like[k].shape)) for k in keys]
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return {k: p.reshape(like[k].shape) for k, p in zip(keys, parts, strict=True)}


def prune_order(weights, mask, scope="global"):
    """When the chain's next magnitude round would prune each surviving weight, as a quantile.

    Survivors are ranked by |w| of the weights trained under `mask` (stable, ties by
    position), over all tensors (scope "global") or within each tensor ("layer"), and the
    rank is divided by the number ranked: a partial round with fraction q removes the
    survivors below q. Pruned weights get -1.
    """
    if scope not in ("global", "layer"):
        raise DiltError(f"imp.scope: '{scope}' is not global or layer")
    keys = sorted(mask)
    groups = [keys] if scope == "global" else [[k] for k in keys]
    order = {}
    for group in groups:
        alive = _flat(mask, group).astype(bool)
        mags = np.abs(_flat(weights, group).astype(np.float32))[alive]
        rank = np.empty(len(mags))
        rank[np.argsort(mags, kind="stable")] = np.arange(len(mags))
        quantile = np.full(len(alive), -1.0)
        quantile[alive] = rank / max(len(mags), 1)
        order.update(_unflat(quantile, {k: mask[k] for k in group}))
    return order


def ticket_mask(kind, chain_masks, k=None):
    """The ticket of one round from its chains' masks: own (chain k), core (AND), union (OR),
    specialist (chain k minus the others)."""
    if kind == "own":
        return {n: np.asarray(m).astype(bool) for n, m in chain_masks[k or 0].items()}
    if kind == "core":
        return algebra.core(chain_masks)
    if kind == "union":
        return algebra.union(chain_masks)
    if kind == "specialist":
        return algebra.specialist(chain_masks, k)
    raise DiltError(f"matching: unknown ticket kind '{kind}' (one of {', '.join(KINDS)})")


def ticket_scores(kind, orders, k=None):
    """Order in which a partial next round of the chains removes a ticket's weights (higher
    = kept longer), from each chain's `prune_order`.

    A weight leaves the AND (core; COLT's shared mask) when any chain prunes it: min over
    chains. It leaves the OR (union) when every chain that keeps it prunes it: max. It
    leaves chain k's own mask, and specialist k, when chain k prunes it.
    """
    if kind in ("own", "specialist"):
        return orders[k or 0]
    if kind not in ("core", "union"):
        raise DiltError(f"matching: unknown ticket kind '{kind}' (one of {', '.join(KINDS)})")
    reduce = np.minimum.reduce if kind == "core" else np.maximum.reduce
    return {n: reduce([o[n] for o in orders]) for n in orders[0]}


def kept(mask):
    """Number of kept weights of a mask."""
    return sum(int(np.count_nonzero(m)) for m in mask.values())


def total(mask):
    """Number of weights a mask covers."""
    return sum(int(np.prod(m.shape)) for m in mask.values())


def target_count(mask, density):
    """Kept weights of a mask of `density` over the same tensors: round(density * total)."""
    if not 0.0 <= density <= 1.0:
        raise DiltError(f"matching: target density {density} is outside [0, 1]")
    return round(density * total(mask))


def trim(mask, scores, count):
    """The `count` highest-scoring weights of `mask` (among equal scores the earlier position
    in sorted-name order is kept); a subset of `mask`."""
    keys = sorted(mask)
    inside = _flat(mask, keys).astype(bool)
    if not 0 <= count <= int(inside.sum()):
        raise DiltError(f"matching: cannot keep {count} of the {int(inside.sum())} weights "
                        "of a mask")
    flat = np.where(inside, _flat(scores, keys).astype(np.float64), -np.inf)
    keep = np.zeros(len(flat), dtype=bool)
    keep[np.argsort(-flat, kind="stable")[:count]] = True
    return _unflat(keep, mask)


def feasibility(ticket, target, round_masks):
    """Whether some round of a ticket keeps round(target N) weights, and which round to trim.

    `round_masks` maps each available round to the ticket's mask there. The source is the
    sparsest round that still keeps the target count (ties: the later round). Returns a
    record {ticket, target_density, target_count, total, feasible, reason, source_round,
    source_density, max_density, max_density_round}.
    """
    rounds = sorted(round_masks)
    counts = {r: kept(round_masks[r]) for r in rounds}
    size = total(round_masks[rounds[0]])
    need = target_count(round_masks[rounds[0]], target)
    densest = max(rounds, key=lambda r: (counts[r], -r))
    record = {"ticket": ticket, "target_density": target, "target_count": need, "total": size,
              "max_density": counts[densest] / size, "max_density_round": densest}
    above = [r for r in rounds if counts[r] >= need]
    if not above:
        return {**record, "feasible": False, "source_round": None, "source_density": None,
                "reason": f"no round keeps density {target:.4f}: the densest, round "
                          f"{densest}, keeps {counts[densest] / size:.4f}; the ticket is not "
                          "topped up with weights outside its definition"}
    src = min(above, key=lambda r: (counts[r], -r))
    last = " (the last round given: the trim may exceed one round's pruning)" \
        if src == rounds[-1] and counts[src] > need else ""
    return {**record, "feasible": True, "source_round": src,
            "source_density": counts[src] / size,
            "reason": f"round {src} is the sparsest at or above the target; trimmed "
                      f"{counts[src] - need} of its {counts[src]} weights{last}"}


def match(ticket, target, round_masks, scores_at):
    """A ticket at exactly round(target N) kept weights, and its record.

    `round_masks`: {round: the ticket's mask}; `scores_at(round)`: the ticket's trim scores
    at that round (`ticket_scores`), called once, for the source round only. Returns
    (mask, record); the mask is None when the ticket is infeasible at `target`. The record
    (see `feasibility`) adds `density` (real, of the returned mask; None if infeasible) and
    `trim_fraction` (share of the source round's weights trimmed away).
    """
    record = feasibility(ticket, target, round_masks)
    if not record["feasible"]:
        return None, {**record, "density": None, "trim_fraction": None}
    source_mask = round_masks[record["source_round"]]
    mask = trim(source_mask, scores_at(record["source_round"]), record["target_count"])
    have = kept(source_mask)
    return mask, {**record, "density": kept(mask) / record["total"],
                  "trim_fraction": (have - record["target_count"]) / have if have else 0.0}


def match_ticket(ticket, algebra, k, target, chain_masks, chain_weights, scope="global"):
    """`match` for a ticket made from IMP chains by `algebra` (own, core, union, specialist;
    `k` the chain of own and specialist tickets: see dilt.methods).

    `chain_masks`: {round: [mask of each chain of the ticket's method, in part order]} for
    every available round; `chain_weights(round)`: the chains' trained weights of that
    round (trained under those masks), in the same order; called for the source round only.
    `scope` is imp.scope, the ranking the chains' magnitude rounds use.
    """
    round_masks = {r: ticket_mask(algebra, ms, k) for r, ms in chain_masks.items()}

    def scores_at(rnd):
        orders = [prune_order(w, m, scope)
                  for w, m in zip(chain_weights(rnd), chain_masks[rnd], strict=True)]
        return ticket_scores(algebra, orders, k)

    return match(ticket, target, round_masks, scores_at)


def layer_density(mask):
    """{tensor name: fraction kept}."""
    return {n: float(np.count_nonzero(m)) / m.size for n, m in sorted(mask.items())}


def empty_layers(mask):
    """Names of the tensors a mask keeps nothing of. In a plain feed-forward network (Conv-N,
    MLP) one empty layer disconnects the input from the output; in a residual network it
    removes the branch the layer sits on."""
    return [n for n, m in sorted(mask.items()) if not np.any(m)]
