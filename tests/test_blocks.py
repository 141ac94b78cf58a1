import numpy as np
import pytest
from scipy.stats import spearmanr

from dilt.blocks import block_table, same_layer_gw, spearman_permutation


def test_spearman_monotone_relation_is_significant():
    x = np.arange(15.0)
    rho, p = spearman_permutation(x, np.exp(x / 3), n_perm=2000)
    assert rho == pytest.approx(1.0)
    assert p == pytest.approx(1 / 2001)


def test_spearman_noise_is_not_significant_and_seeded():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20), rng.normal(size=20)
    rho, p = spearman_permutation(x, y, n_perm=2000, seed=1)
    assert rho == pytest.approx(spearmanr(x, y).statistic)
    assert p > 0.2
    assert spearman_permutation(x, y, n_perm=2000, seed=1) == (rho, p)


def test_spearman_degenerate_input():
    rho, p = spearman_permutation([1, 1, 1, 1], [1, 2, 3, 4])
    assert np.isnan(rho) and p == 1.0


def test_same_layer_gw_by_hand():
    labels = ["p0:a", "p0:b", "p1:a", "p1:b"]
    D = np.array(
        [
            [0.0, 1.0, 0.3, 2.0],
            [1.0, 0.0, 4.0, 0.7],
            [0.3, 4.0, 0.0, 5.0],
            [2.0, 0.7, 5.0, 0.0],
        ]
    )
    assert same_layer_gw(labels, D, ["p0", "p1"], ["a", "b"]) == {"a": 0.3, "b": 0.7}
    with pytest.raises(ValueError):
        same_layer_gw(labels, D, ["p0"], ["a"])


def test_block_table():
    rows = block_table(
        {"a": 1, "b": 0, "c": 1},
        {"a": 0.2, "b": 0.5, "c": 0.4},
        {"a": 0.1, "b": 0.9, "c": 0.3},
    )
    assert rows == [
        {"cluster": 0, "n_layers": 1, "layers": "b", "mean_jaccard": 0.5, "mean_gw": 0.9},
        {
            "cluster": 1,
            "n_layers": 2,
            "layers": "a,c",
            "mean_jaccard": pytest.approx(0.3),
            "mean_gw": pytest.approx(0.2),
        },
    ]
