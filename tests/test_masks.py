"""Mask algebra identities for general K, Jaccard and its chance level."""

import numpy as np
import pytest

from dilt import masks
from dilt.io import DiltError


def random_masks(k, density=0.4, seed=0):
    rng = np.random.default_rng(seed)
    return [{"x": rng.random((30, 20)) < density, "y": rng.random((50,)) < density}
            for _ in range(k)]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_core_and_specialists_partition_the_union(k):
    ms = random_masks(k)
    t = masks.tickets(ms, [f"p{i}" for i in range(k)])
    for key in ms[0]:
        pieces = [t["core"][key]] + [t[f"specialist_p{i}"][key] for i in range(k)]
        assert (np.logical_or.reduce(pieces) <= t["union"][key]).all()
        for i, a in enumerate(pieces):
            for b in pieces[i + 1:]:
                assert not (a & b).any()
        # Every union weight kept by exactly one chain is a specialist weight.
        count = sum(m[key].astype(int) for m in ms)
        only_one = count == 1
        assert (np.logical_or.reduce(pieces[1:]) == only_one).all()
        assert (t["core"][key] == (count == k)).all()


def test_k2_union_is_exactly_core_plus_specialists():
    ms = random_masks(2, seed=3)
    t = masks.tickets(ms, ["p0", "p1"])
    for key in ms[0]:
        recomposed = t["core"][key] | t["specialist_p0"][key] | t["specialist_p1"][key]
        assert (recomposed == t["union"][key]).all()


def test_hand_checked_tickets():
    a = {"w": np.array([1, 1, 0, 0], bool)}
    b = {"w": np.array([1, 0, 1, 0], bool)}
    t = masks.tickets([a, b], ["p0", "p1"])
    assert t["core"]["w"].tolist() == [True, False, False, False]
    assert t["union"]["w"].tolist() == [True, True, True, False]
    assert t["specialist_p0"]["w"].tolist() == [False, True, False, False]
    assert masks.jaccard(a["w"], b["w"]) == pytest.approx(1 / 3)


def test_chance_jaccard_matches_formula_and_simulation():
    assert masks.chance_jaccard(0.3, 0.3) == pytest.approx(0.3 / 1.7)
    rng = np.random.default_rng(0)
    a, b = rng.random(200_000) < 0.2, rng.random(200_000) < 0.5
    assert masks.jaccard(a, b) == pytest.approx(masks.chance_jaccard(0.2, 0.5), abs=0.005)


def test_random_like_keeps_exact_per_tensor_counts():
    ref = random_masks(1, 0.3)[0]
    rnd = masks.random_like(ref, np.random.default_rng(1))
    assert all(rnd[k].sum() == ref[k].sum() and rnd[k].shape == ref[k].shape for k in ref)
    assert any((rnd[k] != ref[k]).any() for k in ref)


def test_incompatible_masks_name_the_file():
    a, b = random_masks(2)
    b["x"] = b["x"][:10]
    with pytest.raises(DiltError, match="b.safetensors: mask 'x' has shape"):
        masks.check_compatible([a, b], ["a.safetensors", "b.safetensors"])


def test_corrected_jaccard():
    assert masks.corrected_jaccard(0.5, 0.5) == 0.0
    assert masks.corrected_jaccard(1.0, 0.2) == 1.0
    assert masks.corrected_jaccard(0.6, 0.2) == pytest.approx(0.5)
    assert np.isnan(masks.corrected_jaccard(1.0, 1.0))


def _two_layer_masks():
    """Layer a: 10 weights, each mask keeps 5, 4 shared. Layer b: 10 weights, 2 kept, both
    shared."""
    a = {"a.weight": np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool),
         "b.weight": np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)}
    b = {"a.weight": np.array([1, 1, 1, 1, 0, 1, 0, 0, 0, 0], bool),
         "b.weight": np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)}
    return a, b


def test_group_overlap_by_hand():
    counts = masks.overlap_counts(_two_layer_masks())
    assert counts.keys == ("a.weight", "b.weight")
    assert counts.sizes.tolist() == [10, 10] and counts.kept.tolist() == [[5, 2], [5, 2]]
    assert counts.inter.tolist() == [[4, 2]]
    # Layer a: J = 4 / 6, J0 = 0.25 / 0.75 = 1/3, corrected (2/3 - 1/3) / (2/3) = 1/2.
    a = masks.group_overlap(counts, ["a.weight"])
    assert a["jaccard"] == pytest.approx(2 / 3) and a["chance_jaccard"] == pytest.approx(1 / 3)
    assert a["jaccard_corrected"] == pytest.approx(0.5)
    # Layer b: J = 1, J0 = 0.04 / 0.36 = 1/9, corrected 1.
    b = masks.group_overlap(counts, ["b.weight"])
    assert b["chance_jaccard"] == pytest.approx(1 / 9) and b["jaccard_corrected"] == 1.0
    # Both: J = (4 + 2) / (6 + 2) = 3/4; J0 = (2.5 + 0.4) / (7.5 + 3.6) = 29/111 (pooled
    # densities 0.35 would give 0.35 / 1.65 = 0.212); corrected (3/4 - 29/111) / (82/111).
    both = masks.group_overlap(counts)
    assert both["jaccard"] == pytest.approx(0.75)
    assert both["chance_jaccard"] == pytest.approx(29 / 111)
    assert both["jaccard_corrected"] == pytest.approx(217 / 328)
    assert masks.group_chance_jaccard([10], [5], [5]) == masks.chance_jaccard(0.5, 0.5)


def test_group_overlap_of_k_masks_is_the_mean_over_pairs():
    ms = random_masks(3, seed=2)
    counts = masks.overlap_counts(ms)
    flat = [np.concatenate([m["x"].ravel(), m["y"].ravel()]) for m in ms]
    out = masks.group_overlap(counts)
    assert out["jaccard"] == pytest.approx(masks.mean_pairwise_jaccard(flat))
    dens = [[m[k].mean() for k in ("x", "y")] for m in ms]
    chance = [masks.group_chance_jaccard([600, 50], dens[i] * np.array([600, 50]),
                                         dens[j] * np.array([600, 50]))
              for i, j in [(0, 1), (0, 2), (1, 2)]]
    assert out["chance_jaccard"] == pytest.approx(np.mean(chance))
    x = masks.group_overlap(counts, ["x"])
    assert x["chance_jaccard"] == pytest.approx(np.mean(
        [masks.chance_jaccard(dens[i][0], dens[j][0]) for i, j in [(0, 1), (0, 2), (1, 2)]]))


def test_dense_counts_and_unknown_key():
    ones = {"w": np.ones((3, 2), bool)}
    counts = masks.overlap_counts([ones, ones])
    assert counts.dense and np.isnan(masks.group_overlap(counts)["jaccard_corrected"])
    assert not masks.overlap_counts(_two_layer_masks()).dense
    with pytest.raises(DiltError, match="no mask tensor named"):
        masks.group_overlap(counts, ["v"])
