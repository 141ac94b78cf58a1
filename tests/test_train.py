"""Masked training keeps pruned weights at exactly zero; training is deterministic, resumes
from checkpoints, starts at a late step and runs data-parallel."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dilt import checkpoint, devices, models, order, pruning, rewind, rigl, train
from dilt.batches import LoaderFeed, TensorFeed
from dilt.io import DiltError

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


def test_same_seed_gives_identical_weights_and_statistics():
    states, stats = [], []
    for _ in range(2):
        model, mask = sparse_model()
        stats.append(train.train(model, mask, toy_data(), TRAIN, seed=5, log=lambda _: None))
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert json.dumps(stats[0]) == json.dumps(stats[1])
    assert stats[0]["runtime"] == {"device": "cpu", "gpu_name": None, "torch": torch.__version__,
                                   "cuda": None, "precision": "fp32", "processes": 1}


def test_prunable_layers_exclude_head_and_ignore_list():
    model = models.init_model({**CFG, "ignore": ["conv1"]}, (1, 8, 8), 4, seed=0)
    names = models.prunable_names(model, {**CFG, "ignore": ["conv1"]})
    assert "head.weight" not in names and "conv1.weight" not in names
    assert names == ["conv2.weight", "conv3.weight", "conv4.weight", "fc1.weight", "fc2.weight"]


def test_bf16_autocast_keeps_pruned_weights_zero(monkeypatch):
    """The CUDA recipe (bf16 autocast, channels_last) exercised with CPU kernels."""
    from contextlib import nullcontext

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
    from dilt import io

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
    model.train()
    for epoch in range(cfg["epochs"]):
        for x, y in order.batches(data, cfg["batch_size"], seed, epoch):
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


# Resuming from a checkpoint ------------------------------------------------------------------

class Interrupted(Exception):
    pass


class Keeper(rewind.RewindKeeper):
    """The rewind keeper (weights after step 2), interrupting training at step `stop`: by an
    exception, or with `kill` by SIGKILL to its own process."""

    def __init__(self, stop=None, kill=False):
        super().__init__(2)
        self.stop, self.kill = stop, kill

    def __call__(self, step, model, masks, opt):
        super().__call__(step, model, masks, opt)
        if step == self.stop and self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        if step == self.stop:
            raise Interrupted


def run(path=None, stop=None, cfg=TRAIN, seed=3, log=lambda _: None, kill=False):
    """(final weights, statistics, kept step-2 weights) of training with a checkpoint every
    5 steps at `path`, or None when interrupted at step `stop`."""
    model, mask = sparse_model()
    hook = Keeper(stop, kill)
    ckpt = checkpoint.Checkpoint(path, minutes=None, steps=5) if path else None
    try:
        stats = train.train(model, mask, toy_data(), cfg, seed=seed, log=log, hook=hook,
                            checkpoint=ckpt)
    except Interrupted:
        return None
    return model.state_dict(), stats, hook.weights


def same(a, b):
    """Two runs' weights, statistics and kept weights are identical."""
    return (json.dumps(a[1]) == json.dumps(b[1])
            and all(torch.equal(a[0][k], b[0][k]) for k in a[0])
            and a[2].keys() == b[2].keys() and all(torch.equal(a[2][k], b[2][k]) for k in a[2]))


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_an_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, optimizer):
    cfg = {**TRAIN, "optimizer": optimizer}
    path, logged = tmp_path / "job.ckpt.safetensors", []
    assert run(path, stop=8, cfg=cfg) is None  # 12 steps; checkpoint at step 5, lost 5..7
    assert run(path, cfg=cfg, log=logged.append) is not None and same(run(cfg=cfg),
                                                                      run(path, cfg=cfg))
    assert f"resumed from {path} at step 5" in logged


def test_a_killed_training_process_resumes_to_the_uninterrupted_result(tmp_path):
    path, tests = tmp_path / "job.ckpt.safetensors", Path(__file__).parent
    code = (f"import sys, torch\n"
            f"sys.path[:0] = {[str(tests.parent / 'workflow' / 'scripts'), str(tests)]!r}\n"
            f"torch.set_num_threads({torch.get_num_threads()})\n"
            f"import test_train\n"
            f"test_train.run({str(path)!r}, stop=8, kill=True)\n")
    killed = subprocess.run([sys.executable, "-c", code])
    assert killed.returncode == -signal.SIGKILL and path.exists()
    assert same(run(path), run())


class StoppingRigL(rigl.RigL):
    """RigL updating every 2 steps until step 10, interrupted at step `stop`."""

    def __init__(self, stop=None):
        super().__init__(alpha=0.3, every=2, end=10)
        self.stop = stop

    def __call__(self, step, model, masks, opt):
        super().__call__(step, model, masks, opt)
        if step == self.stop:
            raise Interrupted


def test_rigl_masks_and_counters_survive_a_resumed_run(tmp_path):
    path, results = tmp_path / "job.ckpt.safetensors", []
    for where, stop in ((None, None), (path, 7), (path, None)):  # checkpoint at 5, lost 5..6
        model, mask = sparse_model()
        hook = StoppingRigL(stop)
        ckpt = checkpoint.Checkpoint(where, minutes=None, steps=5) if where else None
        try:
            train.train(model, mask, toy_data(), TRAIN, seed=3, log=lambda _: None, hook=hook,
                        checkpoint=ckpt)
        except Interrupted:
            continue
        results.append((model.state_dict(), hook.masks, hook.state_dict()))
    (weights, masks, counters), (weights2, masks2, counters2) = results
    assert counters == counters2 and counters["updates"] == 4 and counters["regrown"] > 0
    assert all(torch.equal(masks[n], masks2[n]) for n in masks)
    assert all(torch.equal(weights[k], weights2[k]) for k in weights)


def test_an_unreadable_checkpoint_fails_naming_the_file(tmp_path):
    path = tmp_path / "job.ckpt.safetensors"
    run(path, stop=8)
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])  # a torn copy
    with pytest.raises(DiltError, match=f"{path}: unreadable training checkpoint"):
        run(path)


def test_a_checkpoint_of_another_job_is_ignored(tmp_path):
    path, logged = tmp_path / "job.ckpt.safetensors", []
    run(path, stop=8, seed=4)
    assert same(run(path, log=logged.append), run())
    assert f"{path}: checkpoint of another job or version, training from the start" in logged


def test_checkpoints_fall_due_by_steps_or_minutes_and_ranks_ask_rank_0():
    from dilt.distributed import SOLO

    class Ranks:
        world, asked = 2, []

        def agree(self, flag):
            self.asked.append(flag)
            return True

    assert [checkpoint.Checkpoint("c", minutes=None, steps=5).due(s, SOLO)
            for s in (4, 5, 10)] == [False, True, True]
    assert checkpoint.Checkpoint("c", minutes=0).due(1, SOLO)
    assert not checkpoint.Checkpoint("c", minutes=60).due(1, SOLO)
    ranks, every = Ranks(), checkpoint.Checkpoint.POLL
    assert [checkpoint.Checkpoint("c", minutes=0).due(s, ranks) for s in (1, every)] == \
        [False, True]
    assert ranks.asked == [True]  # only on polled steps, all ranks at once


def test_remove_deletes_the_checkpoint_and_torn_writes(tmp_path):
    ckpt = checkpoint.Checkpoint(checkpoint.scratch_file(tmp_path, "results/x/round1/m.json"))
    assert ckpt.path == tmp_path / "results/x/round1/m.json.ckpt.safetensors"
    ckpt.save({"a": torch.zeros(1)}, {"step": 1})
    (ckpt.path.parent / f".{ckpt.path.name}.abc.tmp").write_bytes(b"torn")
    ckpt.remove()
    assert list(ckpt.path.parent.iterdir()) == []


# Late rewinding ------------------------------------------------------------------------------

class Recorder:
    """Hook: the learning rate and the (dense) gradient each step sees."""

    def __init__(self):
        self.lr, self.grad = {}, {}

    def __call__(self, step, model, masks, opt):
        self.lr[step] = opt.param_groups[0]["lr"]
        self.grad[step] = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).clone()


def rewound(cfg, k):
    """(recorder, stats, weights) of a run 0..T keeping theta_k, then of a run k..T from
    theta_k with a fresh optimizer."""
    runs = []
    model, mask = sparse_model()
    keeper, record = rewind.RewindKeeper(k), Recorder()

    def both(*args):
        keeper(*args)
        record(*args)

    stats = train.train(model, mask, toy_data(), cfg, seed=3, log=lambda _: None, hook=both)
    runs.append((record, stats, model.state_dict()))
    model, record = sparse_model()[0], Recorder()
    model.load_state_dict(keeper.weights)
    stats = train.train(model, mask, toy_data(), cfg, seed=3, log=lambda _: None, hook=record,
                        start_step=k)
    runs.append((record, stats, model.state_dict()))
    return runs


def test_a_run_started_at_step_k_sees_the_same_batches_and_learning_rates():
    cfg = {**TRAIN, "warmup_epochs": 1}  # 6 steps per epoch: k = 5 rewinds into the warm-up
    (full, full_stats, _), (late, late_stats, _) = rewound(cfg, 5)
    assert list(late.lr) == list(range(5, 12)) and late.lr == {s: full.lr[s] for s in late.lr}
    assert late.lr[5] == 1.0 * cfg["lr"]  # warm-up step 6 of 6
    assert torch.equal(late.grad[5], full.grad[5])  # theta_5 on batch 5
    # The optimizer starts fresh at k, as in open_lth: no momentum, so the paths part.
    assert not torch.equal(late.grad[6], full.grad[6])
    assert late_stats["start_step"] == 5 and late_stats["steps"] == full_stats["steps"] == 12


def test_without_momentum_a_run_from_step_k_repeats_the_rest_of_the_full_run():
    cfg = {**TRAIN, "momentum": 0.0}
    (full, full_stats, a), (late, late_stats, b) = rewound(cfg, 4)
    assert all(torch.equal(late.grad[s], full.grad[s]) for s in late.grad)  # same batches
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert {**late_stats, "start_step": 0} == full_stats  # the last epoch, whole in both


def test_start_step_must_fall_inside_the_schedule():
    model, mask = sparse_model()
    with pytest.raises(DiltError, match="start_step: 12 is not below the 12 training steps"):
        train.train(model, mask, toy_data(), TRAIN, seed=0, log=lambda _: None, start_step=12)


# Batch order -------------------------------------------------------------------------------

class Images:
    """Stand-in image dataset: image i is i plus a random 'augmentation'; it counts reads."""

    def __init__(self, n):
        self.n, self.reads = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.reads.append(i)
        return torch.full((1, 2, 2), float(i)) + torch.rand(()), i % 3


def test_disk_batches_resume_without_reading_skipped_images_and_shard_by_rank():
    images = Images(10)
    feed = LoaderFeed(images, torch.arange(10) % 3)
    whole = list(order.batches(feed, 4, seed=1, epoch=2))
    assert [len(y) for _, y in whole] == [4, 4, 2]
    images.reads.clear()
    tail = list(order.batches(feed, 4, seed=1, epoch=2, start=1))
    assert sorted(images.reads) == sorted(int(x[0, 0, 0]) for x, _ in whole[1:] for x in x)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # augmentation too
               for a, b in zip(tail, whole[1:], strict=True))
    shards = [list(order.batches(feed, 4, seed=1, epoch=2, rank=r, world=2)) for r in (0, 1)]
    for (xa, ya), (xb, yb), (x, y) in zip(*shards, whole, strict=True):
        assert torch.equal(torch.cat([xa, xb]), x) and torch.equal(torch.cat([ya, yb]), y)
    tensors = TensorFeed(torch.arange(10.0), torch.arange(10) % 3)
    assert [x.long().tolist() for x, _ in order.batches(tensors, 4, seed=1, epoch=2)] == \
        [[int(v[0, 0, 0]) for v in x] for x, _ in whole]


def test_each_epoch_order_is_a_function_of_seed_and_epoch():
    assert torch.equal(order.epoch_order(50, 1, 3), order.epoch_order(50, 1, 3))
    assert not torch.equal(order.epoch_order(50, 1, 3), order.epoch_order(50, 1, 4))
    assert sorted(order.epoch_order(50, 1, 3).tolist()) == list(range(50))


# Devices -----------------------------------------------------------------------------------

def test_auto_device_is_logged_and_a_missing_gpu_names_the_setting():
    logged = []
    device = devices.select("auto", logged.append)
    assert logged == [f"device: auto chose {devices.describe(device)['device']}"]
    assert devices.describe("cpu", 2) == {"device": "cpu", "gpu_name": None,
                                          "torch": torch.__version__, "cuda": None,
                                          "precision": "fp32", "processes": 2}
    if not torch.cuda.is_available():
        with pytest.raises(DiltError, match="device: 'cuda' requested but no CUDA device"):
            devices.select("cuda")


# Data-parallel training (gloo on the CPU) ----------------------------------------------------

class ReplicaCheck:
    """Hook for data-parallel runs: the largest difference between the ranks' weights and
    gradients at each step (rank 0's copy keeps them); raises on rank 0 at step `stop`."""

    def __init__(self, stop=None):
        self.spread, self.stop = [], stop

    def __call__(self, step, model, masks, opt):
        import torch.distributed as dist

        flat = torch.cat([t.detach().reshape(-1) for p in model.parameters()
                          for t in (p, p.grad)])
        high, low = flat.clone(), flat.clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        self.spread.append(float((high - low).max()))
        if step == self.stop and dist.get_rank() == 0:
            raise Interrupted


def parallel(processes, path=None, stop=None):
    """(weights, stats, hook, mask) of training on 89 examples (last batch 9: shards 5 + 4)."""
    model, mask = sparse_model()
    hook = ReplicaCheck(stop) if processes > 1 else None
    ckpt = checkpoint.Checkpoint(path, minutes=None, steps=5) if path else None
    stats = train.train(model, mask, toy_data(89), TRAIN, seed=3, log=lambda _: None,
                        hook=hook, checkpoint=ckpt, processes=processes)
    return model.state_dict(), stats, hook, mask


@pytest.fixture(scope="module")
def two_processes():
    return parallel(2)


def test_two_processes_match_one_and_keep_pruned_weights_exactly_zero(two_processes):
    weights, stats, hook, mask = two_processes
    single, single_stats, _, _ = parallel(1)
    assert hook.spread == [0.0] * 12  # identical replicas at every step
    assert all((weights[n][~m] == 0).all() for n, m in mask.items())
    assert max(float((weights[k] - single[k]).abs().max()) for k in weights) < 1e-6
    assert abs(stats["train_loss"] - single_stats["train_loss"]) < 1e-6
    assert stats["train_acc"] == single_stats["train_acc"]
    assert stats["runtime"]["processes"] == 2


def test_an_interrupted_data_parallel_run_resumes_to_the_uninterrupted_result(tmp_path,
                                                                              two_processes):
    path = tmp_path / "job.ckpt.safetensors"
    with pytest.raises(Interrupted):
        parallel(2, path, stop=8)
    weights, stats, hook, _ = parallel(2, path)
    assert hook.spread == [0.0] * 7  # steps 5..11
    assert all(torch.equal(weights[k], two_processes[0][k]) for k in weights)
    assert stats == two_processes[1]
