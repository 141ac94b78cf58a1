"""dilt.train's in-memory loop against a standard torch.utils.data.DataLoader loop.

Both train the default config's model (config/config.yaml: conv4, width 16) from the same
theta0 under the same magnitude mask (density 0.8^3, a round-3 ticket) on all of digits'
training split, with the config's epochs, batch size and SGD settings, on 1 thread as the
workflow's jobs do. The standard loop is what a tutorial writes: TensorDataset + DataLoader
(shuffle, num_workers=0: the fastest setting for in-memory tensors), torch.optim.SGD with a
LambdaLR cosine schedule, gradients of pruned weights zeroed before each step, in PyTorch's
default layout (dilt trains convolutional models channels_last).

The same comparison with LeNet-300-100 (a step ~20x cheaper) is given as context: the
data path's share, and with it the ratio, depends on how much a step computes.

Each loop runs in a fresh process, interleaved, --repeats times; repeat i shuffles with
seed i (the two loops draw different orders from it). Times are medians, accuracy the mean:
  loop  CPU seconds of the training loop (dilt: the whole train() call; standard: from the
        first batch, so building the optimizer, which imports torch._dynamo, is excluded);
  job   wall seconds of the whole process, as a workflow job pays them (imports included).
Mask enforcement is timed on its own (the per-step gradient masking over the real masked
tensors, 1000 repetitions) and given as a share of one training step.

    .venv/bin/python bench/bench_train.py [--repeats 3]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from common import REPO, emit, parser, row

T_START = time.perf_counter()


# model.* of a second, much cheaper model: where the step is tiny, the data path dominates
MLP = {"arch": "lenet300", "width": 300, "fc_width": 100, "ignore": []}


def setup(mlp=False):
    """Config, data, theta0 and the round-3 mask of the default configuration."""
    import torch
    import yaml

    from dilt import datasets, models, pruning, train
    from dilt.batches import TensorFeed

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    if mlp:
        cfg["model"] = MLP
    train.set_threads(cfg["threads"])
    ds = datasets.load(cfg["dataset"])
    x, y = torch.from_numpy(ds.train.x), torch.from_numpy(ds.train.y)
    test = TensorFeed(torch.from_numpy(ds.test.x), torch.from_numpy(ds.test.y))
    model = models.init_model(cfg["model"], x.shape[1:], ds.num_classes, seed=0)
    names = models.prunable_names(model, cfg["model"])
    params = dict(model.named_parameters())
    mask = {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}
    for _ in range(3):
        mask = pruning.magnitude_prune(params, mask, cfg["imp"]["fraction"])
    return cfg, model, mask, (x, y, test)


def dataloader_loop(model, mask, x, y, cfg, seed):
    """The standard loop: DataLoader batches, torch.optim.SGD + LambdaLR, masked gradients."""
    import math

    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from dilt.train import apply_mask

    params = dict(model.named_parameters())
    masked = [(params[n], m.float()) for n, m in mask.items()]
    apply_mask(model, mask)
    loader = DataLoader(TensorDataset(x, y), batch_size=cfg["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                          weight_decay=cfg["weight_decay"], nesterov=cfg["momentum"] > 0)
    total = cfg["epochs"] * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    t0 = time.process_time()  # the loop alone: the optimizer's imports are start-up
    for _ in range(cfg["epochs"]):
        total_loss, correct = 0.0, 0
        for xb, yb in loader:
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for param, m in masked:
                param.grad.mul_(m)
            opt.step()
            sched.step()
            total_loss += loss.item() * len(yb)
            correct += int((out.argmax(1) == yb).sum())
    return {"steps": total, "loop": time.process_time() - t0}


def mask_cost(model, mask, reps=1000):
    """CPU seconds per step of the gradient masking over the real masked tensors."""
    import torch

    params = dict(model.named_parameters())
    masked = [(params[n], m.to(params[n].dtype)) for n, m in mask.items()]
    for param, _ in masked:
        param.grad = torch.randn_like(param)
    t0 = time.process_time()
    with torch.no_grad():
        for _ in range(reps):
            for param, m in masked:
                param.grad.mul_(m)
    return (time.process_time() - t0) / reps


def worker(kind, mlp, seed):
    """Train once with `kind` ('dilt' or 'dataloader'); print a JSON line of timings."""
    from dilt import train
    from dilt.batches import TensorFeed

    cfg, model, mask, (x, y, test) = setup(mlp)
    t0 = time.process_time()
    if kind == "dilt":
        stats = train.train(model, mask, TensorFeed(x, y), cfg["train"], seed=seed,
                            log=lambda _: None)
    else:
        stats = dataloader_loop(model, mask, x, y, cfg["train"], seed=seed)
    loop = stats.get("loop", time.process_time() - t0)
    out = {"loop": loop, "steps": stats["steps"], "acc": train.evaluate(model, test),
           "job": time.perf_counter() - T_START}
    if kind == "dilt":
        out["mask"] = mask_cost(model, mask)
    print(json.dumps(out))


def spawn(kind, mlp, seed):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--seed", str(seed),
                           *["--mlp"] * mlp],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["job"] = time.perf_counter() - t0  # interpreter start-up included
    return result


def main():
    p = parser(__doc__)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker", choices=["dilt", "dataloader"], help=argparse.SUPPRESS)
    p.add_argument("--mlp", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.mlp, args.seed)
    runs = {"dilt": [], "dataloader": [], "mlp dilt": [], "mlp dataloader": []}
    for seed in range(args.repeats):
        for kind in runs:
            runs[kind].append(spawn(kind.split()[-1], kind.startswith("mlp"), seed))
    summary = {k: {"loop": statistics.median(r["loop"] for r in v),
               "job": statistics.median(r["job"] for r in v),
               "acc": statistics.mean(r["acc"] for r in v)} for k, v in runs.items()}
    ours, base = summary["dilt"], summary["dataloader"]
    steps = runs["dilt"][0]["steps"]
    step = ours["loop"] / steps
    mask = statistics.median(r["mask"] for r in runs["dilt"])
    loop_ratio, job_ratio = base["loop"] / ours["loop"], base["job"] / ours["job"]
    mlp_ratio = summary["mlp dataloader"]["loop"] / summary["mlp dilt"]["loop"]
    emit([
        row("train loop speed-up vs DataLoader loop (loop CPU)", loop_ratio, "x", ">= 3",
            loop_ratio >= 3, f"{base['loop']:.2f} s vs {ours['loop']:.2f} s, {steps} steps"),
        row("train job speed-up vs DataLoader loop (process wall)", job_ratio, "x", None, None,
            f"{base['job']:.2f} s vs {ours['job']:.2f} s, imports included"),
        row("final test accuracy, dilt loop", ours["acc"], "", None, None,
            f"DataLoader loop {base['acc']:.4f}; mean over {args.repeats} batch-order seeds"),
        row("  same, LeNet-300-100 instead of conv4 (context)", mlp_ratio, "x", None, None,
            f"{summary['mlp dataloader']['loop']:.2f} s vs {summary['mlp dilt']['loop']:.2f} s, "
            f"accuracy {summary['mlp dilt']['acc']:.4f} vs {summary['mlp dataloader']['acc']:.4f}"),
        row("mask enforcement share of a step", 100 * mask / step, "%", "<= 10",
            mask / step <= 0.1, f"{mask * 1e6:.0f} us of a {step * 1e3:.2f} ms step"),
    ], args.json)


if __name__ == "__main__":
    main()
