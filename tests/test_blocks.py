import numpy as np
import pytest
from scipy.stats import spearmanr

from dilt import blocks, masks
from dilt.blocks import same_layer_gw, spearman_permutation
from dilt.io import DiltError


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


def _masks_by_hand():
    """a: 10 weights, 5 kept by each chain, 4 shared; b: 10 weights, 2 kept, both shared;
    c: 4 weights, all kept (dense)."""
    def m(*rows):
        return dict(zip(["a.weight", "b.weight", "c.weight"],
                        [np.array(r, bool) for r in rows], strict=True))
    return [m([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1] + [0] * 8, [1] * 4),
            m([1, 1, 1, 1, 0, 1, 0, 0, 0, 0], [1, 1] + [0] * 8, [1] * 4)]


def test_layer_keys():
    keys = ["conv1.weight", "layer1.0.conv1.weight", "layer1.0.conv2.weight"]
    assert blocks.layer_keys(["conv1", "layer1.0"], keys) == {
        "conv1": ["conv1.weight"], "layer1.0": keys[1:]}
    with pytest.raises(DiltError, match="layer 'fc' has no masked weights"):
        blocks.layer_keys(["fc"], keys)


def test_block_table():
    counts = masks.overlap_counts(_masks_by_hand())
    keys_of = blocks.layer_keys(["a", "b", "c"], counts.keys)
    overlap = {x: masks.group_overlap(counts, keys_of[x]) for x in keys_of}
    rows = blocks.block_table({"a": 1, "b": 0, "c": 1}, overlap,
                              {"a": 0.1, "b": 0.9, "c": 0.3}, counts, keys_of)
    assert rows == [
        {"cluster": 0, "n_layers": 1, "layers": "b", "mean_jaccard": 1.0,
         "mean_chance_jaccard": pytest.approx(1 / 9), "mean_jaccard_corrected": 1.0,
         "jaccard_corrected": 1.0, "mean_gw": 0.9},
        {
            "cluster": 1,
            "n_layers": 2,
            "layers": "a,c",
            "mean_jaccard": pytest.approx(5 / 6),  # (2/3 + 1) / 2
            "mean_chance_jaccard": pytest.approx(2 / 3),  # (1/3 + 1) / 2
            "mean_jaccard_corrected": pytest.approx(0.5),  # c (dense) is undefined
            # pooled: J = 8/10, J0 = (2.5 + 4) / (7.5 + 4) = 13/23
            "jaccard_corrected": pytest.approx((0.8 - 13 / 23) / (10 / 23)),
            "mean_gw": pytest.approx(0.2),
        },
    ]


def test_density_null_is_the_hypergeometric_jaccard():
    # 4 weights, 2 kept by each mask: shared 0, 1, 2 with probability 1/6, 4/6, 1/6,
    # so J = 0, 1/3, 1 with those probabilities (mean 7/18).
    two = [{"w": np.array(m, bool), "d": np.ones(3, bool)} for m in ([1, 1, 0, 0], [0, 1, 1, 0])]
    counts = masks.overlap_counts(two)
    null = blocks.density_null_jaccard(counts, [["w"], ["d"], ["w", "d"]], 30000,
                                       np.random.default_rng(0))
    assert null.shape == (30000, 3)
    values, freq = np.unique(null[:, 0], return_counts=True)
    assert values == pytest.approx([0, 1 / 3, 1])
    assert freq / 30000 == pytest.approx([1 / 6, 4 / 6, 1 / 6], abs=0.01)
    assert (null[:, 1] == 1).all()  # a dense tensor always overlaps fully
    assert set(np.round(null[:, 2], 6)) == {round(x, 6) for x in (3 / 7, 4 / 6, 5 / 5)}
    again = blocks.density_null_jaccard(counts, [["w"]], 10, np.random.default_rng(0))
    assert (again[:, 0] == null[:10, 0]).all()
    three = blocks.density_null_jaccard(masks.overlap_counts(two + two[:1]), [["w"]], 30000,
                                        np.random.default_rng(1))
    assert three.mean() == pytest.approx(7 / 18, abs=0.01)


def test_density_null_p_by_hand():
    gw = [1.0, 2.0, 3.0]
    null = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [2.0, 1.0, 3.0]])
    # rho_null = -1, 1, undefined (counted as extreme), 0.5
    assert blocks.density_null_p(-1.0, null, gw) == pytest.approx(3 / 5)
    assert blocks.density_null_p(0.6, null, gw) == pytest.approx(4 / 5)
    assert np.isnan(blocks.density_null_p(float("nan"), null, gw))


def _depth_study(disentangled, n_layers=12, seed=0):
    """Deeper layers are bigger, sparser and farther apart in GW. Confounded: the two chains'
    masks are independent. Disentangled: layers whose chains share more weights beyond
    chance have lower GW, in an order unrelated to depth."""
    rng = np.random.default_rng(seed)
    sizes = np.linspace(200, 2000, n_layers).astype(int)
    dens = np.linspace(0.6, 0.1, n_layers)
    share = rng.permutation(np.linspace(0.9, 0.0, n_layers)) if disentangled else np.zeros(
        n_layers)
    gw = np.linspace(0.1, 1.0, n_layers)
    if disentangled:
        gw = np.sort(gw)[np.argsort(np.argsort(-share))]
    chains = [{}, {}]
    for i, (n, d, s) in enumerate(zip(sizes, dens, share, strict=True)):
        a = rng.random(n) < d
        chains[0][f"l{i:02d}.weight"] = a
        chains[1][f"l{i:02d}.weight"] = np.where(rng.random(n) < s, a, rng.random(n) < d)
    counts = masks.overlap_counts(chains)
    keys_of = blocks.layer_keys([f"l{i:02d}" for i in range(n_layers)], counts.keys)
    overlap = {x: masks.group_overlap(counts, keys_of[x]) for x in keys_of}
    return blocks.correlation_test(overlap, dict(zip(keys_of, gw, strict=True)), counts,
                                   keys_of, n_perm=2000, n_null=300)


def test_density_drift_alone_fools_raw_rho_but_not_the_density_null():
    out = _depth_study(disentangled=False)
    assert out["spearman_rho"] < -0.9 and out["p_value"] < 0.01  # the false smoking gun
    assert out["p_density_null"] > 0.1 and out["p_value_corrected"] > 0.05
    assert out["reason"] is None and out["density_null_draws"] == 300


def test_disentangled_overlap_passes_every_test():
    out = _depth_study(disentangled=True)
    assert out["spearman_rho"] < 0 and out["p_value"] < 0.01
    assert out["rho_corrected"] < -0.9 and out["p_value_corrected"] < 0.01
    assert out["p_density_null"] < 0.01
    assert _depth_study(disentangled=True) == out  # seeded


def test_dense_round_has_no_correlation():
    ones = {f"l{i}.weight": np.ones(5, bool) for i in range(4)}
    counts = masks.overlap_counts([ones, ones])
    keys_of = blocks.layer_keys([f"l{i}" for i in range(4)], counts.keys)
    overlap = {x: masks.group_overlap(counts, keys_of[x]) for x in keys_of}
    out = blocks.correlation_test(overlap, {x: float(i) for i, x in enumerate(keys_of)},
                                  counts, keys_of)
    assert out["reason"].startswith("dense round")
    assert all(np.isnan(out[k]) for k in ["spearman_rho", "p_value", "rho_corrected",
                                          "p_value_corrected", "p_density_null"])
    assert out["n_layers_corrected"] == 0
