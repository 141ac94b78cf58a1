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
