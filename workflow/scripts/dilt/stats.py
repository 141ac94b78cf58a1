"""Paired-by-seed comparisons of retrained tickets: mean difference, t CI, sign-flip p.

Two tickets retrained from the same seed share theta0, the partition and the data order,
so their difference per seed removes the seed's own luck; the comparisons use those
differences, never two independent means.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .io import DiltError

EXACT_MAX_SEEDS = 16  # 2^16 sign patterns; beyond, a seeded Monte Carlo sample
MONTE_CARLO_DRAWS = 100_000


class Comparison(NamedTuple):
    """ticket_a minus ticket_b in accuracy on split (all or a partition p{k})."""

    name: str
    ticket_a: str
    ticket_b: str
    split: str


def sign_flip_p(diffs, seed=0):
    """Two-sided sign-flip permutation p of mean(diffs) = 0 for paired differences.

    Under the null each difference is symmetric about 0, so its sign is a fair coin: p is
    the share of sign patterns whose |mean| reaches the observed |mean|. Exact over all
    2^n patterns for n <= 16 (the observed pattern included, so p >= 2 / 2^n when the mean
    is non-zero: n seeds cannot give p below 2^(1-n), e.g. 0.0625 for 5 seeds); else
    (1 + hits) / (1 + draws) over seeded random patterns. NaN for n < 2.
    """
    d = np.asarray(diffs, dtype=np.float64)
    n = len(d)
    if n < 2:
        return float("nan")
    observed = abs(d.mean()) - 1e-12 * max(1.0, abs(d).max())
    if n <= EXACT_MAX_SEEDS:
        bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
        signs = 1.0 - 2.0 * bits
        return float(np.mean(np.abs(signs @ d) / n >= observed))
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(MONTE_CARLO_DRAWS, n))
    hits = int(np.sum(np.abs(signs @ d) / n >= observed))
    return (1 + hits) / (1 + MONTE_CARLO_DRAWS)


def paired_difference(a, b, level=0.95, seed=0):
    """Paired difference a - b over seeds (equal-length sequences, same seed order).

    Pairs with a NaN on either side are dropped. Returns diff_mean, ci_low and ci_high
    (t interval: mean -/+ t_{n-1, (1+level)/2} sd / sqrt(n)), p_value (the paired t test,
    the test that matches the interval: p < 1 - level exactly when the interval excludes 0),
    p_signflip (``sign_flip_p``, exact and free of a normality assumption, but never below
    2^(1-n): 0.25 with 3 seeds, so it cannot separate at the default's seed count) and
    n_seeds. With n < 2 the interval and both p-values are NaN; with all differences equal
    the interval is the point and p_value is 0 (1 when they are all 0).
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    n = len(d)
    nan = float("nan")
    out = {"diff_mean": float(d.mean()) if n else nan, "ci_low": nan, "ci_high": nan,
           "p_value": nan, "p_signflip": nan, "n_seeds": n}
    if n < 2:
        return out
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * se
    if se > 0:
        p_t = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    else:
        p_t = 1.0 if mean == 0 else 0.0
    return {**out, "ci_low": mean - half, "ci_high": mean + half,
            "p_value": p_t, "p_signflip": sign_flip_p(d, seed)}


def default_comparisons(parts, tickets, random_of=None):
    """The headline comparisons, keeping those whose two tickets are both in ``tickets``:

    union vs colt, union vs core, core vs lth, lth vs its matched random, union vs RigL, CAP
    and SAViT (the proposal's hypothesis 3; all classes), and for every partition p{k}:
    specialist_p{k} vs its matched random on p{k} (its own classes), on every other
    partition and on all classes. ``random_of`` names a ticket's
    matched random control (default: random_lth for lth, random_specialist_p{k} for
    specialist_p{k}).
    """
    random_of = {"lth": "random_lth", **{f"specialist_{p}": f"random_specialist_{p}"
                                         for p in parts}, **(random_of or {})}
    specs = [Comparison("union_vs_colt", "union", "colt", "all"),
             Comparison("union_vs_core", "union", "core", "all"),
             Comparison("core_vs_lth", "core", "lth", "all"),
             Comparison("lth_vs_random", "lth", random_of["lth"], "all"),
             *(Comparison(f"union_vs_{b}", "union", b, "all") for b in ("rigl", "cap", "savit"))]
    for p in parts:
        own = f"specialist_{p}"
        splits = [p, *(q for q in parts if q != p), "all"]
        specs += [Comparison(f"{own}_vs_random", own, random_of[own], s) for s in splits]
    present = set(tickets)
    return [c for c in specs if c.ticket_a in present and c.ticket_b in present]


COLUMNS = ["comparison", "ticket_a", "ticket_b", "split", "target_sparsity", "diff_mean",
           "ci_low", "ci_high", "p_value", "p_signflip", "n_seeds"]


def comparison_table(results, specs, level=0.95, seed=0):
    """One row per comparison and target sparsity at which both tickets were retrained.

    ``results`` is tidy: columns ticket, seed, target_sparsity and acc_{split}, one row per
    (ticket, seed, target_sparsity). ``specs`` are (name, ticket_a, ticket_b, split)
    tuples (``Comparison``; ``default_comparisons`` proposes the list). Accuracies are
    paired by seed (seeds with only one of the two tickets are left out; n_seeds counts
    the pairs) and compared with ``paired_difference``: accuracy of a minus accuracy of b.
    Columns: COLUMNS. DiltError for a missing column, a duplicated row, or a spec whose
    ticket is not in the table.
    """
    need = {"ticket", "seed", "target_sparsity"}
    missing = need - set(results.columns)
    if missing:
        raise DiltError(f"comparisons: results table lacks columns {sorted(missing)}")
    if results.duplicated(["ticket", "seed", "target_sparsity"]).any():
        raise DiltError("comparisons: results table has two rows for one ticket, seed and "
                        "target_sparsity")
    tickets = set(results["ticket"])
    rows = []
    for name, ticket_a, ticket_b, split in specs:
        column = f"acc_{split}"
        if column not in results.columns:
            raise DiltError(f"comparisons: '{name}' needs column {column}")
        for ticket in (ticket_a, ticket_b):
            if ticket not in tickets:
                raise DiltError(f"comparisons: '{name}' needs ticket '{ticket}', not retrained")
        a = results[results["ticket"] == ticket_a]
        b = results[results["ticket"] == ticket_b]
        for sparsity in sorted(set(a["target_sparsity"]) & set(b["target_sparsity"])):
            pairs = pd.merge(a.loc[a["target_sparsity"] == sparsity, ["seed", column]],
                             b.loc[b["target_sparsity"] == sparsity, ["seed", column]],
                             on="seed", suffixes=("_a", "_b")).sort_values("seed")
            rows.append({"comparison": name, "ticket_a": ticket_a, "ticket_b": ticket_b,
                         "split": split, "target_sparsity": float(sparsity),
                         **paired_difference(pairs[f"{column}_a"], pairs[f"{column}_b"],
                                             level=level, seed=seed)})
    return pd.DataFrame(rows, columns=COLUMNS)
