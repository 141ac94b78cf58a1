"""CAP (dilt.cap): OBS saliency and update on hand-checkable blocks, Fisher, masks, schedule."""

import math

import pytest
import torch
from torch import nn

from dilt import cap, models
from dilt.batches import TensorFeed
from dilt.io import DiltError


def ones(*shape):
    return torch.ones(shape, dtype=torch.bool)


def test_block_size_one_is_the_diagonal_fisher_score_and_moves_no_other_weight():
    # Score w^2 (F_qq + damp) / 2 with damp 0.1:
    # 9 * 0.2 / 2 = 0.9, 1 * 4.1 / 2 = 2.05, 4 * 0.6 / 2 = 1.2, 0.25 * 1.1 / 2 = 0.1375.
    w = torch.tensor([3.0, -1.0, 2.0, 0.5])
    fisher = torch.tensor([0.1, 4.0, 0.5, 1.0]).view(4, 1, 1)
    finv = 1 / (fisher.double() + 0.1)
    order, loss = cap.eliminate(w.view(4, 1), finv, torch.zeros(4, 1, dtype=torch.bool))
    assert order.flatten().tolist() == [0, 0, 0, 0]
    assert loss.flatten().tolist() == pytest.approx([0.9, 2.05, 1.2, 0.1375])
    [(mask, weights)] = cap.prune({"w": w}, {"w": fisher}, {"w": ones(4)}, [2], 0.1)
    assert mask["w"].tolist() == [False, True, True, False]
    assert weights["w"].tolist() == [0.0, -1.0, 2.0, 0.0]


def test_block_of_two_follows_the_exact_obs_solution():
    # F + damp I = [[2, 1], [1, 3]], det 5, inverse [[0.6, -0.2], [-0.2, 0.4]]; w = (1, 1).
    # Saliencies 1 / (2 * 0.6) = 5/6 and 1 / (2 * 0.4) = 5/4: w0 goes first. OBS moves w1 by
    # -w0 [F^-1]_10 / [F^-1]_00 = 1/3, to 4/3; check: delta = (-1, 1/3) gives
    # 1/2 delta' F delta = 1/2 (2 - 2/3 + 1/3) = 5/6, and d/d(delta1) = (-1 + 3/3) = 0.
    # Left alone, w1 = 4/3 has inverse Fisher 0.4 - 0.2^2 / 0.6 = 1/3 (= 1 / F_11), saliency
    # (16/9) / (2/3) = 8/3, summed 5/6 + 8/3 = 7/2 = 1/2 w' F w: removing both weights.
    f = torch.tensor([[[2.0, 1.0], [1.0, 3.0]]])
    delta = torch.tensor([-1.0, 1.0 / 3.0])
    assert 0.5 * delta @ f[0] @ delta == pytest.approx(5 / 6)
    w = torch.tensor([[1.0, 1.0]])
    order, loss = cap.eliminate(w, torch.linalg.inv(f.double()), torch.zeros(1, 2, dtype=bool))
    assert order.tolist() == [[0, 1]]
    assert loss.flatten().tolist() == pytest.approx([5 / 6, 7 / 2])
    damp = 0.1
    fisher = {"w": f - damp * torch.eye(2)}
    kept = cap.prune({"w": w[0]}, fisher, {"w": ones(2)}, [2, 1, 0], damp)
    assert [m["w"].tolist() for m, _ in kept] == [[True, True], [False, True], [False, False]]
    assert [x for _, v in kept for x in v["w"].tolist()] == pytest.approx([1, 1, 0, 4 / 3, 0, 0])


def test_blocks_are_ranked_globally_by_their_summed_losses():
    # F = I: no updates, losses w^2 / 2 summed in order of size. Block (0.1, 0.2) costs 0.005
    # then 0.025 in all; block (2, 1) costs 0.5 then 2.5. Keeping 2 empties the first block.
    w = torch.tensor([0.1, 0.2, 2.0, 1.0])
    fisher = {"w": torch.zeros(2, 2, 2)}
    [(mask, weights)] = cap.prune({"w": w}, fisher, {"w": ones(4)}, [2], 1.0)
    assert mask["w"].tolist() == [False, False, True, True]
    assert weights["w"].tolist() == [0.0, 0.0, 2.0, 1.0]


def test_already_pruned_weights_leave_first_and_stay_pruned():
    # F = I: saliency w^2 / 2, no updates. Weight 0 is pruned (zero) and leaves first at no
    # cost (-inf, so it ranks first globally); then 3 (0.125), 1 (+0.5), 2 (+2).
    w = torch.tensor([0.0, 1.0, 2.0, 0.5])
    order, loss = cap.eliminate(w.view(1, 4), torch.eye(4).double()[None],
                                torch.tensor([[True, False, False, False]]))
    assert order.tolist() == [[0, 3, 1, 2]]
    assert loss.flatten().tolist() == [-math.inf, 0.125, 0.625, 2.625]
    mask = {"w": torch.tensor([False, True, True, True])}
    [(new, _)] = cap.prune({"w": w}, {"w": torch.zeros(1, 4, 4)}, mask, [2], 1.0)
    assert new["w"].tolist() == [False, True, True, False]


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))


def test_block_fisher_is_the_mean_outer_product_of_masked_per_example_gradients():
    model = tiny()
    gen = torch.Generator().manual_seed(1)
    feed = TensorFeed(torch.randn(5, 1, 2, 2, generator=gen), torch.tensor([0, 1, 1, 0, 1]))
    mask = {"1.weight": torch.rand(3, 4, generator=gen) > 0.3}
    fisher = cap.block_fisher(model, mask, feed, block_size=5, batch=2)["1.weight"]
    weight = model[1].weight
    expected = torch.zeros(15, 15)  # 12 weights padded to 3 blocks of 5
    for x, y in zip(feed.x, feed.y, strict=True):
        loss = nn.functional.cross_entropy(model(x[None]), y[None])
        g = torch.autograd.grad(loss, weight)[0] * mask["1.weight"]
        g = nn.functional.pad(g.flatten(), (0, 3))
        expected += torch.outer(g, g) / 5
    blocks = torch.stack([expected[5 * i:5 * i + 5, 5 * i:5 * i + 5] for i in range(3)])
    assert torch.allclose(fisher, blocks, atol=1e-7)
    assert fisher[2, 2:].abs().max() == 0  # padding


def vit():
    cfg = {"arch": "vit_mini", "width": 8, "fc_width": 16}
    model = models.init_model(cfg, (1, 8, 8), 10, 0)
    gen = torch.Generator().manual_seed(0)
    feed = TensorFeed(torch.randn(24, 1, 8, 8, generator=gen),
                      torch.randint(0, 10, (24,), generator=gen))
    names = models.prunable_names(model, cfg)
    params = dict(model.named_parameters())
    mask = {n: torch.rand(params[n].shape, generator=gen) > 0.2 for n in names}
    return model, mask, feed


def test_one_shot_keeps_exactly_the_count_inside_the_old_mask_and_zeroes_the_rest():
    model, mask, feed = vit()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    total = sum(m.numel() for m in mask.values())
    settings = cap.Settings(block_size=24, damp=1e-3)  # 24 divides no qkv/fc row: padding
    results = cap.one_shot(model, mask, feed, [0.5, 0.3], settings)
    for density, (new, state) in zip([0.5, 0.3], results, strict=True):
        assert sum(int(m.sum()) for m in new.values()) == round(density * total)
        for n in mask:
            assert not (new[n] & ~mask[n]).any()
            assert (state[n][~new[n]] == 0).all()
        untouched = [k for k in before if k not in mask]
        assert all(torch.equal(state[k], before[k]) for k in untouched)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    changed = sum(int((state[n] != before[n])[new[n]].sum()) for n in mask)
    assert changed > 0  # survivors moved by the OBS update


def test_one_shot_is_deterministic():
    model, mask, feed = vit()
    a = cap.one_shot(model, mask, feed, [0.4], cap.Settings(block_size=16, damp=1e-3))
    b = cap.one_shot(model, mask, feed, [0.4], cap.Settings(block_size=16, damp=1e-3))
    assert all(torch.equal(a[0][0][n], b[0][0][n]) for n in mask)
    assert all(torch.equal(a[0][1][k], b[0][1][k]) for k in a[0][1])


def test_schedule_steps_geometrically_through_every_target():
    # 1 -> 0.5 in two steps: sqrt(0.5), 0.5; then 0.5 -> 0.25: 0.5 sqrt(0.5), 0.25.
    steps = cap.schedule(1.0, [0.25, 0.5], 2)
    assert steps == pytest.approx([0.5**0.5, 0.5, 0.5**1.5, 0.25])
    assert cap.schedule(1.0, [0.5], 1) == [0.5]


def test_gradual_returns_a_nested_mask_and_weights_at_each_target():
    model, mask, feed = vit()
    total = sum(m.numel() for m in mask.values())
    fit = {"batch_size": 8, "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0}
    settings = cap.Settings(block_size=16, num_grads=16, damp=1e-3, steps=2, epochs=1)
    out = cap.gradual(model, mask, feed, [0.3, 0.6], settings, fit, seed=0, log=lambda s: None)
    assert [d for d, _, _ in out] == [0.6, 0.3]
    previous = mask
    for density, new, state in out:
        assert sum(int(m.sum()) for m in new.values()) == round(density * total)
        assert all(not (new[n] & ~previous[n]).any() for n in new)
        assert all((state[n][~new[n]] == 0).all() for n in new)
        previous = new


def test_settings_defaults_and_errors_name_the_key():
    s = cap.settings({"block_size": 64, "schedule": {"epochs": 3}})
    assert (s.block_size, s.num_grads, s.steps, s.epochs) == (64, 256, 2, 3)
    with pytest.raises(DiltError, match=r"baselines\.cap\.schedule\.every: unknown"):
        cap.settings({"schedule": {"every": 1}})
    for damp in (0, "1e-6"):  # YAML reads 1e-6 without a dot as a string
        with pytest.raises(DiltError, match=r"baselines\.cap\.damp"):
            cap.settings({"damp": damp})
    with pytest.raises(DiltError, match=r"baselines\.cap\.num_grads"):
        cap.calibration_sample(TensorFeed(torch.zeros(3, 1), torch.zeros(3)), 4, 0)
