"""Saliency on a fair sample: balanced seeded indices, one fixed read, BatchNorm mode, GraSP's T."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dilt import saliency
from dilt.batches import LoaderFeed, TensorFeed
from dilt.io import DiltError

LABELS = torch.tensor([0] * 5 + [1] * 7 + [2] * 4)  # sorted by class, like ImageFolder


def counts(labels, idx):
    return torch.bincount(labels[idx], minlength=3).tolist()


def test_balanced_sample_has_per_class_examples_each_round_holds_every_class():
    idx = saliency.balanced_indices(LABELS, per_class=3, seed=1)
    assert counts(LABELS, idx) == [3, 3, 3] and len(set(idx.tolist())) == 9
    assert all(sorted(LABELS[idx[i:i + 3]].tolist()) == [0, 1, 2] for i in range(0, 9, 3))


def test_balanced_sample_is_seeded():
    first = saliency.balanced_indices(LABELS, per_class=3, seed=1)
    assert torch.equal(first, saliency.balanced_indices(LABELS, per_class=3, seed=1))
    assert not torch.equal(first, saliency.balanced_indices(LABELS, per_class=3, seed=2))


def test_balanced_sample_sizes_default_total_and_too_few():
    assert counts(LABELS, saliency.balanced_indices(LABELS)) == [4, 4, 4]
    idx = saliency.balanced_indices(LABELS, total=8, seed=0)
    assert sorted(counts(LABELS, idx)) == [2, 3, 3]
    assert counts(LABELS, idx[:6]) == [2, 2, 2]
    with pytest.raises(DiltError, match="class 2 has fewer than the 5"):
        saliency.balanced_indices(LABELS, per_class=5)


def test_materialise_reads_the_sample_once_in_index_order():
    x = torch.arange(16.0).view(8, 2)
    y = torch.arange(8) % 2
    idx = torch.tensor([5, 0, 3])
    for feed in (TensorFeed(x, y), LoaderFeed([(row, 0) for row in x], y)):
        xs, ys = saliency.materialise(feed, idx, batch_size=2)
        assert torch.equal(xs, x[idx]) and torch.equal(ys, y[idx])


def bn_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 2))
    x, y = torch.randn(8, 3) * 3 + 1, torch.tensor([0, 1] * 4)
    return model, x, y


def test_batch_mode_normalises_by_the_batch_running_mode_by_the_initial_statistics():
    model, x, y = bn_model()
    with saliency.scoring_mode(model, "batch"):
        h = model[:2](x)
        assert torch.allclose(h.mean(0), torch.zeros(4), atol=1e-5)
        assert torch.equal(model(x), model(x))  # dropout off
    with saliency.scoring_mode(model, "running"):
        assert torch.allclose(model[:2](x), model[0](x) / (1 + 1e-5) ** 0.5)
        assert torch.equal(model(x), model(x))


def test_scoring_mode_restores_flags_and_running_statistics():
    model, x, _ = bn_model()
    model.train()
    with saliency.scoring_mode(model, "batch"):
        model(x)
    assert all(m.training for m in model.modules())
    assert torch.equal(model[1].running_mean, torch.zeros(4))
    assert int(model[1].num_batches_tracked) == 0
    with pytest.raises(DiltError, match="baselines.saliency.batchnorm"):
        with saliency.scoring_mode(model, "train"):
            pass


def test_keep_scores_honour_the_batchnorm_setting():
    model, x, y = bn_model()
    weights = {"0.weight": model[0].weight, "3.weight": model[3].weight}
    running = saliency.keep_scores("snip", model, weights, x, y, 8, batchnorm="running")
    batch = saliency.keep_scores("snip", model, weights, x, y, 8, batchnorm="batch")
    model.eval()
    by_hand = saliency.snip_scores(lambda: [F.cross_entropy(model(x), y, reduction="sum") / 8],
                                   weights)
    assert all(torch.allclose(running[n], by_hand[n]) for n in weights)
    assert not torch.allclose(batch["0.weight"], running["0.weight"])


def linear():
    gen = torch.Generator().manual_seed(0)
    model = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.randn(2, 3, generator=gen))
    return model, torch.randn(6, 3, generator=gen), torch.tensor([0, 1, 0, 1, 1, 0])


def test_grasp_at_temperature_one_is_minus_the_plain_grasp_score():
    model, x, y = linear()
    weights = {"w": model.weight}
    plain = saliency.grasp_scores(
        lambda: [F.cross_entropy(model(x), y, reduction="sum") / 6], weights)["w"]
    kept = saliency.keep_scores("grasp", model, weights, x, y, 4, temperature=1.0)["w"]
    assert torch.allclose(kept, -plain, atol=1e-7)


def test_grasp_temperature_divides_the_logits_in_both_passes():
    # Logits W x / T are those of W / T at T = 1, so g_T(W) = g_1(W/T) / T and
    # (H g)_T(W) = (H g)_1(W/T) / T^3: the score (H g) * W at T is that of W/T over T^2.
    model, x, y = linear()
    hot = saliency.keep_scores("grasp", model, {"w": model.weight}, x, y, 6, temperature=4.0)
    with torch.no_grad():
        model.weight /= 4.0
    cold = saliency.keep_scores("grasp", model, {"w": model.weight}, x, y, 6, temperature=1.0)
    assert torch.allclose(hot["w"], cold["w"] / 16.0, rtol=1e-5)
    assert not torch.allclose(hot["w"], cold["w"])


def test_snip_ignores_the_temperature():
    model, x, y = linear()
    snip = saliency.keep_scores("snip", model, {"w": model.weight}, x, y, 6, temperature=200.0)
    plain = saliency.snip_scores(
        lambda: [F.cross_entropy(model(x), y, reduction="sum") / 6], {"w": model.weight})
    assert torch.allclose(snip["w"], plain["w"])
