"""Tickets at matched density: source round, trim order, feasibility, controls, empty layers."""

import numpy as np
import pytest
import torch

from dilt import masks, matching, methods, pruning
from dilt.io import DiltError

SHAPES = {"a.weight": (12, 10), "b.weight": (6, 4, 3, 3), "c.weight": (30,)}


def arrays(mask):
    return {n: m.numpy() for n, m in mask.items()}


def chains(k=2, rounds=11, fraction=0.2, seed=0, scope="global"):
    """K IMP chains: {round: [mask per chain]} and {round: [weights per chain]}; every round
    has fresh 'trained' weights, zero where pruned, and round r+1 prunes round r's."""
    gen = torch.Generator().manual_seed(seed)
    ones = {n: torch.ones(s, dtype=torch.bool) for n, s in SHAPES.items()}
    chain_masks, chain_weights, current = {}, {}, [ones] * k
    for r in range(rounds + 1):
        trained = [{n: torch.randn(s, generator=gen) * m[n] for n, s in SHAPES.items()}
                   for m in current]
        chain_masks[r] = [arrays(m) for m in current]
        chain_weights[r] = [arrays(w) for w in trained]
        current = [pruning.magnitude_prune(w, m, fraction, scope)
                   for w, m in zip(trained, current, strict=True)]
    return chain_masks, chain_weights


def subset(a, b):
    return all(not (a[n] & ~b[n]).any() for n in a)


@pytest.mark.parametrize("name, expected", [
    ("core", ("dilt", "core", None)), ("union", ("dilt", "union", None)),
    ("specialist_p1", ("dilt", "specialist", 1)), ("mask_p0", ("dilt", "own", 0)),
    ("colt", ("colt", "core", None)), ("lth", ("lth", "own", None))])
def test_ticket_names_map_to_their_chains_and_algebra(name, expected):
    ticket = methods.parse(name)
    assert (ticket.method.chains, *ticket.algebra) == expected


def match_named(ticket, target, chain_masks, chain_weights, scope="global"):
    return matching.match_ticket(ticket, *methods.parse(ticket).algebra, target, chain_masks,
                                 chain_weights, scope)


def test_prune_order_is_the_survivors_magnitude_rank_over_their_number():
    weights = {"a": np.array([3.0, -1.0, 2.0, 0.5]), "b": np.array([1.0, 1.0])}
    mask = {"a": np.array([1, 1, 0, 1], bool), "b": np.array([1, 1], bool)}
    # survivors by |w|, ties by position: a3 0.5, a1 1, b0 1, b1 1, a0 3
    order = matching.prune_order(weights, mask)
    assert order["a"].tolist() == [4 / 5, 1 / 5, -1, 0.0]
    assert order["b"].tolist() == [2 / 5, 3 / 5]
    layer = matching.prune_order(weights, mask, "layer")
    assert layer["a"].tolist() == [2 / 3, 1 / 3, -1, 0.0]
    assert layer["b"].tolist() == [0.0, 0.5]


def test_core_leaves_when_any_chain_prunes_union_when_every_keeper_does():
    orders = [{"w": np.array([0.0, 0.5, -1.0, 0.25])}, {"w": np.array([0.75, -1.0, 0.5, 0.0])}]
    assert matching.ticket_scores("core", orders)["w"].tolist() == [0.0, -1.0, -1.0, 0.0]
    assert matching.ticket_scores("union", orders)["w"].tolist() == [0.75, 0.5, 0.5, 0.25]
    assert matching.ticket_scores("specialist", orders, 1)["w"].tolist() == [0.75, -1, 0.5, 0]


def test_trim_keeps_the_highest_scores_inside_the_mask_ties_by_position():
    mask = {"a": np.array([1, 1, 1, 0], bool), "b": np.array([1, 1], bool)}
    scores = {"a": np.array([0.5, 0.1, 0.9, 5.0]), "b": np.array([0.3, 0.1])}
    three = matching.trim(mask, scores, 3)
    assert three["a"].tolist() == [True, False, True, False]
    assert three["b"].tolist() == [True, False]
    four = matching.trim(mask, scores, 4)
    assert four["a"].tolist() == [True, True, True, False]
    assert four["b"].tolist() == [True, False]
    with pytest.raises(DiltError, match="cannot keep 6 of the 5"):
        matching.trim(mask, scores, 6)


def test_trimming_a_chain_by_one_round_gives_its_next_magnitude_round():
    chain_masks, chain_weights = chains(k=1)
    mask, weights = chain_masks[2][0], chain_weights[2][0]
    target = matching.kept(chain_masks[3][0]) / matching.total(mask)
    trimmed = matching.trim(mask, matching.prune_order(weights, mask),
                            matching.target_count(mask, target))
    assert all((trimmed[n] == chain_masks[3][0][n]).all() for n in mask)


def test_trimming_colt_by_one_round_gives_its_next_shared_mask():
    gen = torch.Generator().manual_seed(3)
    shared = {n: torch.rand(s, generator=gen) < 0.6 for n, s in SHAPES.items()}
    weights = [{n: torch.randn(s, generator=gen) * shared[n] for n, s in SHAPES.items()}
               for _ in range(2)]
    nxt = arrays(pruning.colt_prune(weights, [shared, shared], 0.2))
    orders = [matching.prune_order(arrays(w), arrays(shared)) for w in weights]
    trimmed = matching.trim(arrays(shared), matching.ticket_scores("core", orders),
                            matching.kept(nxt))
    assert all((trimmed[n] == nxt[n]).all() for n in nxt)


@pytest.mark.parametrize("kind", ["core", "union"])
def test_trimming_core_or_union_to_the_next_rounds_count_gives_the_next_rounds_ticket(kind):
    chain_masks, chain_weights = chains()
    nxt = matching.ticket_mask(kind, chain_masks[4])
    orders = [matching.prune_order(w, m)
              for w, m in zip(chain_weights[3], chain_masks[3], strict=True)]
    trimmed = matching.trim(matching.ticket_mask(kind, chain_masks[3]),
                            matching.ticket_scores(kind, orders), matching.kept(nxt))
    assert all((trimmed[n] == nxt[n]).all() for n in nxt)


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("ticket", ["core", "union", "mask_p1"])
@pytest.mark.parametrize("target", [0.5, 0.3, 0.2])
def test_matched_ticket_keeps_the_target_count_inside_the_sparsest_round_at_or_above(
        scope, ticket, target):
    chain_masks, chain_weights = chains(scope=scope)
    mask, record = match_named(ticket, target, chain_masks, chain_weights.get, scope)
    kind, k = methods.parse(ticket).algebra
    tickets = {r: matching.ticket_mask(kind, ms, k) for r, ms in chain_masks.items()}
    need = round(target * matching.total(mask))
    src = record["source_round"]
    assert matching.kept(mask) == need and record["density"] == need / matching.total(mask)
    assert abs(record["density"] - target) < 0.01
    assert subset(mask, tickets[src])
    above = [matching.kept(t) for t in tickets.values() if matching.kept(t) >= need]
    assert matching.kept(tickets[src]) == min(above)
    assert record["feasible"] and matching.kept(tickets[src + 1]) < need
    if ticket == "mask_p1" and scope == "global":  # a partial round: the next one goes further
        assert subset(chain_masks[src + 1][1], mask)


def test_layer_scope_trims_every_layer_by_about_the_same_share():
    chain_masks, chain_weights = chains(k=1, scope="layer")
    src = chain_masks[2][0]
    mask, _ = match_named("mask_p0", 0.55, chain_masks, chain_weights.get, "layer")
    shares = [1 - mask[n].sum() / src[n].sum() for n in src]
    assert max(shares) - min(shares) < 0.05


def test_source_is_the_sparsest_round_keeping_the_count_ties_to_the_later_round():
    size = 10
    round_masks = {r: {"w": np.arange(size) < c} for r, c in enumerate([10, 8, 6, 6, 3])}
    scores = {"w": -np.arange(size, dtype=float)}
    calls = []

    def scores_at(r):
        calls.append(r)
        return scores

    mask, record = matching.match("t", 0.5, round_masks, scores_at)
    assert (record["source_round"], record["source_density"]) == (3, 0.6)
    assert mask["w"].tolist() == [True] * 5 + [False] * 5 and calls == [3]
    assert record["trim_fraction"] == pytest.approx(1 / 6)
    assert matching.match("t", 0.7, round_masks, scores_at)[1]["source_round"] == 1
    assert matching.feasibility("t", 0.6, round_masks)["reason"].startswith("round 3 ")
    assert "the last round given" in matching.feasibility("t", 0.2, round_masks)["reason"]


def test_a_ticket_that_never_reaches_the_target_is_infeasible_not_topped_up():
    chain_masks, chain_weights = chains()
    mask, record = match_named("specialist_p0", 0.3, chain_masks, chain_weights.get)
    spec = {r: masks.specialist(ms, 0) for r, ms in chain_masks.items()}
    best = max(spec, key=lambda r: masks.density(spec[r]))
    assert mask is None and not record["feasible"] and record["source_round"] is None
    assert record["max_density"] == pytest.approx(masks.density(spec[best]))
    assert record["max_density_round"] == best and record["max_density"] < 0.3
    assert "no round keeps density 0.3000" in record["reason"]


def test_matched_specialist_stays_inside_its_set_algebra_definition():
    chain_masks, chain_weights = chains()
    spec = {r: masks.specialist(ms, 1) for r, ms in chain_masks.items()}
    target = max(masks.density(s) for s in spec.values()) * 0.9
    mask, record = match_named("specialist_p1", target, chain_masks, chain_weights.get)
    assert subset(mask, spec[record["source_round"]])
    assert subset(mask, chain_masks[record["source_round"]][1])


def test_random_control_keeps_the_per_layer_counts_of_the_matched_ticket():
    chain_masks, chain_weights = chains()
    mask, _ = match_named("core", 0.3, chain_masks, chain_weights.get)
    control = masks.random_like(mask, np.random.default_rng(0))
    assert {n: int(m.sum()) for n, m in control.items()} == \
        {n: int(m.sum()) for n, m in mask.items()}


def test_layer_density_and_empty_layers():
    mask = {"b": np.zeros((2, 2), bool), "a": np.array([1, 0, 0, 1], bool)}
    assert matching.layer_density(mask) == {"a": 0.5, "b": 0.0}
    assert matching.empty_layers(mask) == ["b"]
    assert matching.empty_layers({"a": np.ones(3, bool)}) == []
