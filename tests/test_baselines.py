"""Baseline scoring on hand-checkable numbers: SNIP, GraSP, RigL, COLT, random, top-k."""

import numpy as np
import pytest
import torch

from dilt import masks, models, pruning, rigl, saliency, train
from dilt.batches import TensorFeed

CFG = {"arch": "conv4", "width": 4, "fc_width": 16, "ignore": []}
TRAIN = {"epochs": 3, "batch_size": 16, "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}


def test_snip_scores_are_abs_gradient_times_weight():
    # L = (w . x)^2 with x = (1, 2), w = (2, -3): w.x = -4, g = 2 * -4 * x = (-8, -16).
    w = torch.tensor([2.0, -3.0], requires_grad=True)
    x = torch.tensor([1.0, 2.0])
    scores = saliency.snip_scores(lambda: [(w @ x) ** 2], {"w": w})
    assert scores["w"].tolist() == [16.0, 48.0]


def test_gradient_sums_the_loss_terms():
    # Two terms (w.x1)^2 and (w.x2)^2 give the gradient of their sum.
    w = torch.tensor([1.0, -1.0], requires_grad=True)
    x1, x2 = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0])
    grad = saliency.gradient(lambda: [(w @ x1) ** 2, (w @ x2) ** 2], {"w": w})[0]
    # 2 * 1 * x1 + 2 * (-1) * x2 = (2, 0) + (-2, -4)
    assert grad.tolist() == [0.0, -4.0]


def quadratic():
    """L(w) = 1/2 w'Aw - b'w: g = Aw - b, H = A."""
    a = torch.tensor([[2.0, 1.0], [1.0, 3.0]])
    b = torch.tensor([1.0, 0.0])
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    return a, b, w, lambda: [0.5 * w @ a @ w - b @ w]


def test_grasp_scores_on_a_quadratic():
    # g = Aw - b = (2, 4); Hg = A g = (8, 14); score = -(Hg) * w = (-8, -14).
    a, b, w, losses = quadratic()
    assert saliency.hessian_gradient(losses, {"w": w})[0].tolist() == [8.0, 14.0]
    assert saliency.grasp_scores(losses, {"w": w})["w"].tolist() == [-8.0, -14.0]


def test_grasp_sign_convention_removes_the_weight_that_costs_gradient_flow_least():
    a, b, w, losses = quadratic()
    scores = saliency.grasp_scores(losses, {"w": w})["w"]

    def grad_norm(v):
        return float(((a @ v - b) ** 2).sum())

    # Exact |g|^2 after zeroing each weight: w0 -> (0, 3): 9; w1 -> (1, 1): 2; now 20.
    after = [grad_norm(torch.tensor([0.0, 1.0])), grad_norm(torch.tensor([1.0, 0.0]))]
    assert after == [9.0, 2.0] and grad_norm(w.detach()) == 20.0
    # The highest score (w0) is the weight whose removal keeps the most gradient flow, and
    # GraSP removes it: keep_top on the negated scores keeps w1.
    assert int(scores.argmax()) == int(np.argmax(after)) == 0
    assert pruning.keep_top({"w": -scores}, 1)["w"].tolist() == [False, True]


def test_keep_top_is_global_and_stable():
    scores = {"a": torch.tensor([3.0, 1.0]), "b": torch.tensor([[2.0, 5.0]])}
    kept = pruning.keep_top(scores, 2)
    assert kept["a"].tolist() == [True, False] and kept["b"].tolist() == [[False, True]]
    ties = pruning.keep_top({"a": torch.tensor([1.0, 1.0, 1.0])}, 2)
    assert ties["a"].tolist() == [True, True, False]
    with pytest.raises(ValueError):
        pruning.keep_top(scores, 5)


def test_colt_shared_mask_is_the_and_of_each_chains_pruned_mask():
    ones = {"w": torch.ones(4, dtype=torch.bool)}
    a, b = {"w": torch.tensor([1.0, 2.0, 3.0, 4.0])}, {"w": torch.tensor([4.0, 3.0, 2.0, 1.0])}
    # Each chain removes round(0.25 * 4) = 1 weight: a drops w0, b drops w3.
    assert pruning.colt_prune([a, b], [ones, ones], 0.25)["w"].tolist() == [
        False, True, True, False]


def test_colt_each_round_equals_and_of_independent_prunes():
    gen = torch.Generator().manual_seed(0)
    shapes = {"x.weight": (6, 5), "y.weight": (3, 3, 2)}
    shared = {n: torch.ones(s, dtype=torch.bool) for n, s in shapes.items()}
    for _ in range(4):
        chains = [{n: torch.randn(s, generator=gen) for n, s in shapes.items()} for _ in range(3)]
        new = pruning.colt_prune(chains, [shared] * 3, 0.2)
        each = [pruning.magnitude_prune(w, shared, 0.2) for w in chains]
        for n in shapes:
            assert torch.equal(new[n], each[0][n] & each[1][n] & each[2][n])
            assert not (new[n] & ~shared[n]).any()
        survivors = sum(int(m.sum()) for m in shared.values())
        assert sum(int(m.sum()) for m in new.values()) <= survivors - round(0.2 * survivors)
        shared = new


def test_drop_grow_by_hand():
    weight = torch.tensor([0.5, -0.1, 0.0, 2.0, 0.0, 0.3])
    grad = torch.tensor([0.0, 0.0, 5.0, 0.0, -7.0, 0.0])
    mask = torch.tensor([1, 1, 0, 1, 0, 1], dtype=torch.bool)
    # Drop the two smallest active |w| (w1, w5); grow the two largest inactive |grad| (w4, w2).
    new = rigl.drop_grow(weight, grad, mask, 2)
    assert new.tolist() == [True, False, True, True, True, False]


def test_drop_grow_may_regrow_a_just_dropped_weight():
    new = rigl.drop_grow(torch.tensor([0.1, 1.0, 0.0]), torch.tensor([9.0, 0.0, 1.0]),
                         torch.tensor([True, True, False]), 1)
    assert new.tolist() == [True, True, False]


def test_update_fraction_follows_the_cosine_schedule():
    assert rigl.update_fraction(0, 0.3, 100) == pytest.approx(0.3)
    assert rigl.update_fraction(50, 0.3, 100) == pytest.approx(0.15)
    assert rigl.update_fraction(100, 0.3, 100) == 0.0


def test_erk_makes_a_layer_dense_when_it_would_exceed_one():
    # raw: a 4/4 = 1, b 200/10000 = 0.02; a would get 24.5 -> dense; b takes the rest.
    dens = rigl.erk_densities({"a": (2, 2), "b": (100, 100)}, 0.5)
    assert dens["a"] == 1.0 and dens["b"] == pytest.approx((0.5 * 10004 - 4) / 10000)


def test_erk_keeps_the_overall_density_and_favours_small_layers():
    model = models.init_model(CFG, (1, 8, 8), 4, seed=0)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, CFG)}
    for dist in ("erk", "uniform"):
        counts = rigl.layer_counts(shapes, dist, 0.2)
        total = sum(np.prod(s) for s in shapes.values())
        assert abs(sum(counts.values()) - 0.2 * total) <= len(shapes)
        assert all(0 <= counts[n] <= np.prod(s) for n, s in shapes.items())
    erk = rigl.erk_densities(shapes, 0.2)
    assert erk["conv1.weight"] > erk["conv4.weight"]


def toy_data(n=96):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    return TensorFeed(x, (x.mean((1, 2, 3)) > 0).long() + 2 * (x[:, 0, 0, 0] > 0).long())


def test_rigl_keeps_layer_densities_constant_and_pruned_weights_zero():
    model = models.init_model(CFG, (1, 8, 8), 4, seed=0)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, CFG)}
    counts = rigl.layer_counts(shapes, "erk", 0.3)
    start = {n: torch.from_numpy(m) for n, m in
             masks.random_counts(shapes, counts, np.random.default_rng(0)).items()}
    hook = rigl.RigL(alpha=0.3, every=3, end=15)
    seen = []

    def checking(step, model, current, opt):
        hook(step, model, current, opt)
        seen.append({n: int(m.sum()) for n, m in current.items()})

    train.train(model, start, toy_data(), TRAIN, seed=0, log=lambda _: None, hook=checking)
    assert hook.updates == 4 and hook.regrown > 0  # steps 3, 6, 9, 12 of 18
    assert all(s == counts for s in seen)
    final = {n: m.bool() for n, m in hook.masks.items()}
    assert any(not torch.equal(final[n], start[n]) for n in start)
    for n, m in final.items():
        assert (params[n][~m] == 0).all()


def test_rigl_regrows_where_the_gradient_is_largest():
    layer = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.2, 0.0, 0.0]]))
    layer.weight.grad = torch.tensor([[0.0, 0.0, 0.5, -3.0]])
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    mask = {"weight": torch.tensor([[1.0, 1.0, 0.0, 0.0]])}
    # Update fraction at step 1 of 2 with alpha 1: 1/2 * (1 + cos(pi/2)) = 0.5 -> 1 swap.
    rigl.RigL(alpha=1.0, every=1, end=2)(1, layer, mask, opt)
    assert mask["weight"].tolist() == [[1.0, 0.0, 0.0, 1.0]]
    assert layer.weight.tolist() == [[1.0, 0.0, 0.0, 0.0]]


def test_random_global_keeps_the_exact_total_and_spreads_over_tensors():
    shapes = {"a": (40, 10), "b": (600,)}
    mask = masks.random_global(shapes, 0.25, np.random.default_rng(0))
    assert sum(int(m.sum()) for m in mask.values()) == 250
    assert {k: m.shape for k, m in mask.items()} == shapes
    assert 0.15 < mask["a"].mean() < 0.35 and 0.15 < mask["b"].mean() < 0.35


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_rigl_zeroes_the_optimizer_state_of_changed_weights(optimizer):
    layer = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 0.2, 0.0, 0.0]]))
    opt = train._optimizer(layer, {"optimizer": optimizer, "lr": 0.1, "momentum": 0.9,
                                   "weight_decay": 0.0})
    layer.weight.grad = torch.tensor([[1.0, 1.0, 0.5, -3.0]])
    opt.step()  # creates non-zero state for every entry
    layer.weight.grad = torch.tensor([[0.0, 0.0, 0.5, -3.0]])
    state = [b for b in opt.state[layer.weight].values() if b.shape == layer.weight.shape]
    assert state and all((b != 0).all() for b in state)
    rigl.RigL(alpha=1.0, every=1, end=2)(1, layer, {"weight": torch.tensor([[1.0, 1, 0, 0]])},
                                        opt)
    for b in state:  # w1 dropped and w3 grown: their state is reset, the others kept
        assert (b[0, [1, 3]] == 0).all() and (b[0, [0, 2]] != 0).all()
