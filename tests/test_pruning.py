"""Magnitude pruning invariants (open_lth style)."""

import pytest
import torch

from dilt.pruning import magnitude_prune


def weights_and_mask(seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = {"a.weight": (20, 10), "b.weight": (8, 4, 3, 3), "c.weight": (7,)}
    weights = {k: torch.randn(s, generator=gen) for k, s in shapes.items()}
    return weights, {k: torch.ones(s, dtype=torch.bool) for k, s in shapes.items()}


def kept(mask):
    return sum(int(m.sum()) for m in mask.values())


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_density_follows_geometric_schedule_and_masks_only_shrink(scope):
    weights, mask = weights_and_mask()
    for _ in range(6):
        survivors = kept(mask)
        new = magnitude_prune(weights, mask, 0.2, scope)
        removed = survivors - kept(new)
        if scope == "global":
            assert abs(removed - 0.2 * survivors) <= 1
        else:
            for k in mask:
                assert abs(int(mask[k].sum()) - int(new[k].sum()) - 0.2 * int(mask[k].sum())) <= 1
        assert all(not (new[k] & ~mask[k]).any() for k in mask)
        mask = new


def test_every_kept_weight_outweighs_every_pruned_one_globally():
    weights, mask = weights_and_mask(1)
    for _ in range(3):
        mask = magnitude_prune(weights, mask, 0.3)
    mags = torch.cat([weights[k].abs().flatten() for k in sorted(mask)])
    flags = torch.cat([mask[k].flatten() for k in sorted(mask)])
    assert mags[flags].min() >= mags[~flags].max()


def test_layer_scope_ranks_within_each_tensor():
    weights, mask = weights_and_mask(2)
    mask = magnitude_prune(weights, mask, 0.5, "layer")
    for k in mask:
        assert weights[k].abs()[mask[k]].min() >= weights[k].abs()[~mask[k]].max()


def test_already_pruned_weights_are_not_counted_again():
    weights = {"w": torch.tensor([0.1, 0.2, 3.0, 4.0, 5.0])}
    mask = {"w": torch.tensor([False, False, True, True, True])}
    new = magnitude_prune(weights, mask, 0.34)
    assert new["w"].tolist() == [False, False, False, True, True]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_fraction_outside_open_interval_is_rejected(fraction):
    weights, mask = weights_and_mask()
    with pytest.raises(ValueError, match="fraction"):
        magnitude_prune(weights, mask, fraction)


def test_the_output_layer_is_pruned_at_its_own_relative_rate():
    from dilt import models

    weights = {"a": torch.arange(1.0, 101.0), "head": torch.arange(1.0, 21.0)}
    mask = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    new = magnitude_prune(weights, mask, 0.2, "global", rates={"head": 0.5})
    assert int(new["a"].sum()) == 80 and int(new["head"].sum()) == 18  # 10% of the head
    assert not new["head"][:2].any() and new["head"][2:].all()  # its own smallest two
    cfg = {"arch": "conv2", "width": 4, "fc_width": 8, "ignore": []}
    model = models.init_model(cfg, (1, 8, 8), 10, 0)
    assert "head.weight" not in models.prunable_names(model, cfg)
    assert models.prunable_names(model, {**cfg, "head_rate": 0.5})[-1] == "head.weight"
