"""Experiment-1 bookkeeping: method families and the wall-clock of finding each ticket."""

import math

import pytest

from dilt import accounting

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
    assert accounting.find_seconds(ticket, 2, 0, PARTS, bench()) == expected


def test_dense_has_no_finding_cost_and_round_zero_costs_nothing():
    assert math.isnan(accounting.find_seconds("dense", 0, 0, PARTS, bench()))
    assert accounting.find_seconds("lth", 0, 0, PARTS, bench()) == 0


def test_method_families():
    families = {t: accounting.method_of(t) for t in [
        "core", "union", "specialist_p0", "mask_p1", "random", "random_global", "random_lth",
        "lth", "colt", "reinit_lth", "snip", "grasp", "rigl", "dense"]}
    assert families == {
        "core": "dilt", "union": "dilt", "specialist_p0": "dilt", "mask_p1": "dilt",
        "random": "random", "random_global": "random", "random_lth": "random", "lth": "lth",
        "colt": "colt", "reinit_lth": "reinit", "snip": "snip", "grasp": "grasp",
        "rigl": "rigl", "dense": "dense"}
