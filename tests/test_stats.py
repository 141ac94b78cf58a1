"""Paired-by-seed comparisons: hand-checked differences, intervals and sign-flip p-values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dilt import stats
from dilt.io import DiltError


def test_paired_difference_by_hand():
    # d = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), t(3) 97.5% = 3.182. Only the all-plus and the
    # all-minus sign patterns reach |sum| = 10, so the exact sign-flip p is 2/16.
    out = stats.paired_difference([11, 12, 13, 14], [10, 10, 10, 10])
    half = sps.t.ppf(0.975, 3) * np.sqrt(5 / 3) / 2
    assert out["diff_mean"] == 2.5 and out["n_seeds"] == 4
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert half == pytest.approx(2.054, abs=1e-3)
    assert out["p_signflip"] == 2 / 16
    assert out["p_value"] == pytest.approx(sps.ttest_1samp([1, 2, 3, 4], 0).pvalue)


def test_sign_flip_resolution_and_symmetry():
    assert stats.sign_flip_p([1, -1]) == 1.0
    assert stats.sign_flip_p([0.5] * 5) == 2 / 32  # 5 seeds never reach p < 0.05
    assert stats.sign_flip_p([0.5] * 6) == 2 / 64
    assert stats.sign_flip_p([1, 2, -3]) == 1.0  # mean 0
    # Sums of +-3 +-1 +-1 are 5, 3, 3, 1 and their negatives.
    assert stats.sign_flip_p([3, 1, 1]) == stats.sign_flip_p([-3, -1, -1]) == 2 / 8
    assert stats.sign_flip_p([3, 1, -1]) == 6 / 8


def test_sign_flip_monte_carlo_beyond_16_seeds_is_seeded():
    d = np.linspace(0.1, 2.0, 20)
    p = stats.sign_flip_p(d, seed=3)
    assert p == stats.sign_flip_p(d, seed=3) and p < 1e-3
    assert stats.sign_flip_p(np.r_[d, -d], seed=3) == 1.0


def test_degenerate_pairs():
    one = stats.paired_difference([0.8], [0.7])
    assert one["diff_mean"] == pytest.approx(0.1) and one["n_seeds"] == 1
    assert all(np.isnan(one[k]) for k in ["ci_low", "ci_high", "p_value", "p_signflip"])
    nan_dropped = stats.paired_difference([0.8, np.nan, 0.9], [0.7, 0.6, 0.8])
    assert nan_dropped["n_seeds"] == 2 and nan_dropped["diff_mean"] == pytest.approx(0.1)
    equal = stats.paired_difference([0.75, 1.0], [0.5, 0.75])  # exact binary fractions
    assert equal["ci_low"] == equal["ci_high"] == 0.25 and equal["p_value"] == 0.0
    assert stats.paired_difference([0.5, 0.75], [0.5, 0.75])["p_value"] == 1.0


def test_default_comparisons_keep_what_was_retrained():
    tickets = ["union", "core", "colt", "lth", "random_lth", "specialist_p0",
               "random_specialist_p0", "specialist_p1", "cap"]
    specs = stats.default_comparisons(["p0", "p1"], tickets)
    assert [(c.name, c.split) for c in specs] == [
        ("union_vs_colt", "all"), ("union_vs_core", "all"), ("core_vs_lth", "all"),
        ("lth_vs_random", "all"), ("union_vs_cap", "all"), ("specialist_p0_vs_random", "p0"),
        ("specialist_p0_vs_random", "p1"), ("specialist_p0_vs_random", "all")]
    assert specs[3].ticket_b == "random_lth"
    renamed = stats.default_comparisons(["p0"], ["specialist_p0", "rnd0"],
                                        random_of={"specialist_p0": "rnd0"})
    assert renamed == [stats.Comparison("specialist_p0_vs_random", "specialist_p0", "rnd0",
                                        "p0"), stats.Comparison("specialist_p0_vs_random",
                                                                "specialist_p0", "rnd0", "all")]


def _results():
    rows = []
    for seed, (u, c) in enumerate([(0.9, 0.8), (0.8, 0.8), (0.7, 0.5)]):
        rows += [{"ticket": "union", "seed": seed, "target_sparsity": 0.5, "acc_all": u,
                  "acc_p0": u - 0.1},
                 {"ticket": "colt", "seed": seed, "target_sparsity": 0.5, "acc_all": c,
                  "acc_p0": c}]
    rows += [{"ticket": "union", "seed": 0, "target_sparsity": 0.9, "acc_all": 0.6,
              "acc_p0": 0.5},
             {"ticket": "colt", "seed": 1, "target_sparsity": 0.9, "acc_all": 0.4,
              "acc_p0": 0.4}]
    return pd.DataFrame(rows)


def test_comparison_table_pairs_by_seed():
    table = stats.comparison_table(_results(), [("union_vs_colt", "union", "colt", "all"),
                                                ("union_vs_colt", "union", "colt", "p0")])
    assert list(table.columns) == stats.COLUMNS
    assert table[["split", "target_sparsity", "n_seeds"]].values.tolist() == [
        ["all", 0.5, 3], ["all", 0.9, 0], ["p0", 0.5, 3], ["p0", 0.9, 0]]
    first = table.iloc[0]
    # d = 0.1, 0.0, 0.2: mean 0.1, sd 0.1; sign patterns give sums +-0.3 and +-0.1, and
    # the zero's sign is free: 4 of 8 patterns reach |mean| = 0.1.
    half = sps.t.ppf(0.975, 2) * 0.1 / np.sqrt(3)
    assert first["diff_mean"] == pytest.approx(0.1)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((0.1 - half, 0.1 + half))
    assert first["p_signflip"] == 0.5
    assert first["p_value"] == pytest.approx(sps.ttest_1samp([0.1, 0.0, 0.2], 0).pvalue)
    assert table.iloc[2]["diff_mean"] == pytest.approx(0.0)  # 0.0, -0.1, 0.1
    assert np.isnan(table.iloc[1]["diff_mean"])  # no seed has both tickets at 0.9


def test_comparison_table_errors_name_the_problem():
    results = _results()
    with pytest.raises(DiltError, match="needs ticket 'lth'"):
        stats.comparison_table(results, [("core_vs_lth", "union", "lth", "all")])
    with pytest.raises(DiltError, match="needs column acc_p1"):
        stats.comparison_table(results, [("x", "union", "colt", "p1")])
    with pytest.raises(DiltError, match="two rows"):
        stats.comparison_table(pd.concat([results, results.iloc[:1]]), [])
