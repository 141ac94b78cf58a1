"""Masked training keeps pruned weights at exactly zero; training is deterministic."""

import torch

from dilt import models, pruning, train
from dilt.batches import TensorFeed

CFG = {"arch": "conv4", "width": 4, "fc_width": 16, "ignore": []}
TRAIN = {"epochs": 2, "batch_size": 16, "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}


def toy_data(n=96):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    y = (x.mean((1, 2, 3)) > 0).long() + 2 * (x[:, 0, 0, 0] > 0).long()
    return TensorFeed(x, y)


def sparse_model():
    model = models.init_model(CFG, (1, 8, 8), 4, seed=0)
    names = models.prunable_names(model, CFG)
    params = dict(model.named_parameters())
    ones = {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}
    return model, pruning.magnitude_prune({n: params[n] for n in names}, ones, 0.7)


def test_pruned_weights_stay_exactly_zero_with_momentum_and_weight_decay():
    model, mask = sparse_model()
    train.train(model, mask, toy_data(), TRAIN, seed=0, log=lambda _: None)
    params = dict(model.named_parameters())
    for name, m in mask.items():
        assert (params[name][~m] == 0).all()
        assert (params[name][m] != 0).any()


def test_training_on_a_class_subset_uses_only_those_classes():
    model, mask = sparse_model()
    data = toy_data()
    stats = train.train(model, mask, data, TRAIN, seed=0, classes=[0, 3], log=lambda _: None)
    kept = int(torch.isin(data.labels, torch.tensor([0, 3])).sum())
    assert stats["steps"] == TRAIN["epochs"] * -(-kept // TRAIN["batch_size"])


def test_same_seed_gives_identical_weights():
    states = []
    for _ in range(2):
        model, mask = sparse_model()
        train.train(model, mask, toy_data(), TRAIN, seed=5, log=lambda _: None)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_prunable_layers_exclude_head_and_ignore_list():
    model = models.init_model({**CFG, "ignore": ["conv1"]}, (1, 8, 8), 4, seed=0)
    names = models.prunable_names(model, {**CFG, "ignore": ["conv1"]})
    assert "head.weight" not in names and "conv1.weight" not in names
    assert names == ["conv2.weight", "conv3.weight", "conv4.weight", "fc1.weight", "fc2.weight"]


def test_bf16_autocast_keeps_pruned_weights_zero(monkeypatch):
    """The CUDA recipe (bf16 autocast, channels_last) exercised with CPU kernels."""
    from contextlib import nullcontext

    from dilt import devices

    monkeypatch.setattr(devices, "autocast",
                        lambda d: torch.autocast("cpu", dtype=torch.bfloat16)
                        if d.type == "cpu" else nullcontext())
    model, mask = sparse_model()
    data = toy_data()
    stats = train.train(model, mask, data, {**TRAIN, "optimizer": "adamw", "warmup_epochs": 1,
                                            "label_smoothing": 0.1}, seed=0, log=lambda _: None)
    params = dict(model.named_parameters())
    assert all((params[n][~m] == 0).all() and params[n].dtype == torch.float32
               for n, m in mask.items())
    assert stats["train_loss"] > 0 and 0 <= train.evaluate(model, data) <= 1


def test_conv_models_train_channels_last_and_save_in_logical_order(tmp_path):
    from dilt import devices, io

    model, mask = sparse_model()
    train.train(model, mask, toy_data(), TRAIN, seed=0, log=lambda _: None)
    weight = model.conv2.weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not weight.is_contiguous()
    assert devices.to_input(torch.zeros(2, 3, 4, 4)).is_contiguous(
        memory_format=torch.channels_last)
    io.save_tensors(tmp_path / "w.safetensors", model.state_dict())
    saved = io.load_tensors(tmp_path / "w.safetensors")["conv2.weight"]
    assert saved.is_contiguous() and torch.equal(saved, weight)


def test_warmup_then_cosine_schedule():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = train._schedule(opt, total=10, warmup=4)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:4] == [0.25, 0.5, 0.75, 1.0]
    assert lrs[4] == 1.0 and all(a > b for a, b in zip(lrs[4:], lrs[5:], strict=False))
    assert lrs[-1] < 0.1


def reference_train(model, mask, data, cfg, seed, classes=None):
    """torch.optim.SGD + LambdaLR (warm-up, then cosine) over the same batches, masked grads."""
    import math

    from dilt import devices

    if classes is not None:
        data = data.restrict(classes)
    devices.prepare(model, torch.device("cpu"))
    params = dict(model.named_parameters())
    train.apply_mask(model, mask)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                          weight_decay=cfg["weight_decay"], nesterov=cfg["momentum"] > 0)
    per_epoch = -(-len(data) // cfg["batch_size"])
    total, warmup = cfg["epochs"] * per_epoch, round(cfg.get("warmup_epochs", 0) * per_epoch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warmup if s < warmup
                                              else 0.5 * (1 + math.cos(math.pi * (s - warmup)
                                                                       / (total - warmup))))
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(cfg["epochs"]):
        for x, y in data.batches(cfg["batch_size"], gen):
            out = model(devices.to_input(x))
            out = out if classes is None else out[:, list(classes)]
            loss = torch.nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            for name, m in mask.items():
                params[name].grad.mul_(m.float())
            opt.step()
            sched.step()


def test_sgd_update_is_torch_optim_sgd_with_lambda_lr_bit_for_bit():
    for classes, warmup in ((None, 0), ([0, 3], 1)):
        (a, mask), (b, _) = sparse_model(), sparse_model()
        cfg = {**TRAIN, "warmup_epochs": warmup}
        train.train(a, mask, toy_data(), cfg, seed=3, classes=classes, log=lambda _: None)
        reference_train(b, mask, toy_data(), cfg, seed=3, classes=classes)
        sa, sb = a.state_dict(), b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def snapshots(steps):
    """Train a fresh sparse model, keeping the weights the hook sees at each of `steps`."""
    model, mask = sparse_model()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    kept, calls = {}, []

    def hook(step, model, masks, opt):
        calls.append(step)
        if step in steps:
            kept[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    stats = train.train(model, mask, toy_data(), TRAIN, seed=3, log=lambda _: None, hook=hook)
    return start, mask, kept, calls, stats, model.state_dict()


def test_hook_sees_the_weights_after_each_step_count():
    start, mask, kept, calls, stats, final = snapshots({0, 4})
    assert calls == list(range(stats["steps"])) == list(range(12))
    for name, value in start.items():  # step 0: theta0 with the mask applied
        expected = value * mask[name] if name in mask else value
        assert torch.equal(kept[0][name], expected)
    assert not torch.equal(kept[4]["conv2.weight"], kept[0]["conv2.weight"])
    assert not torch.equal(kept[4]["conv2.weight"], final["conv2.weight"])
    assert snapshots({4})[2][4].keys() == kept[4].keys()
    assert all(torch.equal(snapshots({4})[2][4][k], kept[4][k]) for k in kept[4])


def test_total_steps():
    assert train.total_steps(96, TRAIN) == 2 * 6 and train.total_steps(97, TRAIN) == 2 * 7


def test_grad_clip_bounds_each_step_and_keeps_pruned_weights_zero():
    model, mask = sparse_model()
    train.apply_mask(model, mask)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    plain = {**TRAIN, "epochs": 1, "momentum": 0.0, "weight_decay": 0.0, "grad_clip": 1e-3}
    stats = train.train(model, mask, toy_data(32), plain, seed=0, log=lambda _: None)
    moved = torch.sqrt(sum(((v - before[k]) ** 2).sum() for k, v in model.state_dict().items()))
    # plain SGD moves by lr * |clipped gradient| per step, the schedule only shrinks lr
    assert 0 < moved <= TRAIN["lr"] * 1e-3 * stats["steps"] * (1 + 1e-5)
    params = dict(model.named_parameters())
    assert all((params[n][~m] == 0).all() for n, m in mask.items())


def test_conv_and_mlp_weights_are_he_normal_with_zero_biases():
    model = models.init_model({**CFG, "width": 64, "fc_width": 256}, (1, 8, 8), 4, seed=0)
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            fan_in = module.weight[0].numel()
            assert abs(float(module.weight.detach().std()) / (2 / fan_in) ** 0.5 - 1) < 0.1, name
            assert (module.bias == 0).all()
