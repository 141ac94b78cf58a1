"""The method registry: ticket names, families, mask files and the wall-clock of finding each."""

import math

import pytest

from dilt import methods
from dilt.paths import Paths

PARTS = ["p0", "p1"]


def bench():
    """Round r of chain (m, p) takes 10 * (r + 1) seconds, plus 1 s for p1; one-off jobs."""
    times = {(0, m, p, r): 10.0 * (r + 1) + (p == "p1")
             for m in ("dilt", "colt") for p in PARTS for r in range(4)}
    times.update({(0, "lth", "full", r): 20.0 * (r + 1) for r in range(4)})
    times.update({(0, "snip", "full", None): 3.0, (0, "random_lth", "full", None): 2.0,
                  (0, "rigl", "full", 2): 7.0})
    return times


@pytest.mark.parametrize("ticket,expected", [
    ("core", 2 * (10 + 20) + 2),      # both chains, rounds 0 and 1 (p1: +1 s per round)
    ("specialist_p1", 62), ("random", 62), ("reinit_core", 62),
    ("mask_p1", 10 + 20 + 2),         # its own chain only
    ("lth", 20 + 40), ("colt", 62),
    ("random_lth", 60 + 2),           # LTH's rounds, then the random job
    ("snip", 3.0), ("rigl", 7.0),
])
def test_find_seconds_by_hand(ticket, expected):
    assert methods.find_seconds(ticket, 2, 0, PARTS, bench()) == expected


def test_dense_has_no_finding_cost_and_round_zero_costs_nothing():
    assert math.isnan(methods.find_seconds("dense", 0, 0, PARTS, bench()))
    assert methods.find_seconds("lth", 0, 0, PARTS, bench()) == 0


def test_method_families():
    families = {t: methods.parse(t).family for t in [
        "core", "union", "specialist_p0", "mask_p1", "random", "random_global", "random_lth",
        "lth", "colt", "reinit_lth", "snip", "grasp", "rigl", "dense"]}
    assert families == {
        "core": "dilt", "union": "dilt", "specialist_p0": "dilt", "mask_p1": "dilt",
        "random": "random", "random_global": "random", "random_lth": "random", "lth": "lth",
        "colt": "colt", "reinit_lth": "reinit", "snip": "snip", "grasp": "grasp",
        "rigl": "rigl", "dense": "dense"}


def test_ticket_names_parse_to_their_records():
    assert methods.parse("specialist_p1").part == "p1"
    reinit = methods.parse("reinit_core")
    assert reinit.reinit and reinit.mask_ticket == "core" and reinit.family == "reinit"
    assert methods.parse("mask_p0").method.kind == methods.IMP_CHAIN
    for bad in ["specialist", "core_p0", "reinit_dense", "reinit_rigl", "magnitude"]:
        with pytest.raises(methods.DiltError):
            methods.parse(bad)


def test_every_ticket_kind_has_its_mask_file():
    paths = Paths("x")
    files = {t: methods.mask_path(paths, t, 3, 0) for t in [
        "core", "specialist_p1", "random", "mask_p1", "lth", "colt", "snip", "rigl",
        "reinit_lth", "dense"]}
    seed = "results/x/seed0"
    assert files == {
        "core": f"{seed}/tickets/round3/core.safetensors",
        "specialist_p1": f"{seed}/tickets/round3/specialist_p1.safetensors",
        "random": f"{seed}/tickets/round3/random.safetensors",
        "mask_p1": f"{seed}/imp/dilt/p1/round3/mask.safetensors",
        "lth": f"{seed}/imp/lth/full/round3/mask.safetensors",
        "colt": f"{seed}/imp/colt/p0/round3/mask.safetensors",
        "snip": f"{seed}/baselines/round3/snip.safetensors",
        "rigl": f"{seed}/baselines/round3/rigl.safetensors",
        "reinit_lth": f"{seed}/imp/lth/full/round3/mask.safetensors",
        "dense": None}


def test_retrained_tickets_follow_the_enabled_methods():
    assert methods.retrained(PARTS, ["dilt", "lth"], ["snip"], ["lth"]) == [
        "core", "union", "specialist_p0", "specialist_p1", "random", "mask_p0", "mask_p1",
        "lth", "snip", "reinit_lth"]
    assert methods.retrained(PARTS, ["lth"], [], []) == ["lth"]


def test_config_tickets_need_their_imp_method_and_partition():
    methods.check_tickets("k", ["random_lth", "specialist_p1"], ["dilt", "lth"], 2)
    with pytest.raises(methods.DiltError, match="k: 'random_lth' needs 'lth'"):
        methods.check_tickets("k", ["random_lth"], ["dilt"], 2)
    with pytest.raises(methods.DiltError, match="beyond partitions.k = 2"):
        methods.check_tickets("k", ["mask_p2"], ["dilt"], 2)


def test_colt_is_compared_at_its_own_schedule():
    densities = {"dilt": [1, 0.8, 0.64], "lth": [1, 0.8, 0.64], "colt": [1, 0.85, 0.7225]}
    assert methods.nominal_density("colt", 2, densities) == 0.7225
    assert methods.nominal_density("core", 2, densities) == 0.64
    assert methods.nominal_density("dense", 0, densities) == 1.0
