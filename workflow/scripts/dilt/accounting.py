"""Experiment 1 bookkeeping: the method family of a ticket and the wall-clock of finding it."""

import math

DILT_TICKETS = ("core", "union")


def method_of(ticket):
    """Family of a retrained ticket: dilt, colt, lth, random, reinit, snip, grasp, rigl, dense."""
    if ticket.startswith("reinit_"):
        return "reinit"
    if ticket in DILT_TICKETS or ticket.startswith(("specialist_", "mask_")):
        return "dilt"
    if ticket.startswith("random"):
        return "random"
    return ticket


def finders(ticket, rnd, parts):
    """Jobs that find a ticket's mask at round `rnd`: IMP chains as (method, part) whose rounds
    0..rnd-1 count, and one-off jobs as (name, round or None). None for the dense network."""
    base = ticket.removeprefix("reinit_")
    if base == "dense":
        return None
    if base in (*DILT_TICKETS, "random") or base.startswith("specialist_"):
        return [("dilt", p) for p in parts], []
    if base.startswith("mask_"):
        return [("dilt", base[5:])], []
    if base in ("lth", "colt"):
        return [(base, p) for p in (["full"] if base == "lth" else parts)], []
    if base == "random_lth":
        return [("lth", "full")], [("random_lth", None)]
    return [], [(base, rnd if base == "rigl" else None)]


def find_seconds(ticket, rnd, seed, parts, bench):
    """Summed benchmark seconds of the jobs that found the ticket (NaN for dense).

    `bench` maps (seed, job, part, round) to seconds; one-off jobs use part "full".
    """
    jobs = finders(ticket, rnd, parts)
    if jobs is None:
        return math.nan
    chains, extra = jobs
    total = sum(bench[(seed, m, p, r)] for m, p in chains for r in range(rnd))
    return total + sum(bench[(seed, name, "full", r)] for name, r in extra)
