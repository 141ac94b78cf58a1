"""Masked training on in-memory tensors: pruned weights stay exactly zero at every step."""

import math
import time

import torch
from torch import nn

from .io import DiltError


def check_mask(mask, model, names, path):
    """Raise DiltError naming `path` unless the mask covers exactly `names` with matching shapes."""
    if set(mask) != set(names):
        diff = sorted(set(mask) ^ set(names))
        raise DiltError(f"{path}: mask keys do not match the prunable layers ({diff[:3]})")
    params = dict(model.named_parameters())
    for name in names:
        if mask[name].shape != params[name].shape:
            raise DiltError(f"{path}: mask '{name}' has shape {tuple(mask[name].shape)}, "
                            f"the weight has {tuple(params[name].shape)}")


def apply_mask(model, mask):
    """Zero the pruned weights in place."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, m in mask.items():
            params[name].mul_(m.to(params[name].dtype))


def _restrict(x, y, classes):
    """Keep the examples of `classes` and relabel them 0..len(classes)-1."""
    if classes is None:
        return x, y
    classes = torch.as_tensor(classes)
    keep = torch.isin(y, classes)
    relabel = torch.full((int(y.max()) + 1,), -1, dtype=torch.long)
    relabel[classes] = torch.arange(len(classes))
    return x[keep], relabel[y[keep]]


def _logits(model, x, classes):
    out = model(x)
    return out if classes is None else out[:, list(classes)]


def train(model, mask, x, y, cfg, seed, classes=None, log=print):
    """SGD with momentum/weight decay and a cosine schedule, under `mask`.

    `classes` restricts training to those classes (the head's other outputs are unused).
    Gradients of pruned weights are zeroed before each step, so momentum and weight decay
    never move them: pruned weights stay exactly zero.
    """
    x, y = _restrict(x, y, classes)
    if len(y) == 0:
        raise DiltError(f"partitions: no training examples for classes {classes}")
    params = dict(model.named_parameters())
    masked = [(params[n], m.to(params[n].dtype)) for n, m in (mask or {}).items()]
    if mask:
        apply_mask(model, mask)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                          weight_decay=cfg["weight_decay"], nesterov=cfg["momentum"] > 0)
    steps_per_epoch = math.ceil(len(y) / cfg["batch_size"])
    total = cfg["epochs"] * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    start, step = time.perf_counter(), 0
    model.train()
    for epoch in range(cfg["epochs"]):
        order = torch.randperm(len(y), generator=gen)
        total_loss, correct = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * cfg["batch_size"]:(b + 1) * cfg["batch_size"]]
            out = _logits(model, x[idx], classes)
            loss = loss_fn(out, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for param, m in masked:
                param.grad.mul_(m)
            opt.step()
            sched.step()
            step += 1
            total_loss += loss.item() * len(idx)
            correct += int((out.argmax(1) == y[idx]).sum())
        log(f"epoch {epoch + 1}/{cfg['epochs']} loss {total_loss / len(y):.4f} "
            f"acc {correct / len(y):.4f} elapsed {time.perf_counter() - start:.1f}s")
    # Wall time goes to the log and the benchmark file only, so results stay byte-identical.
    return {"epochs": cfg["epochs"], "steps": step, "train_loss": total_loss / len(y),
            "train_acc": correct / len(y)}


@torch.no_grad()
def predict(model, x, batch_size=2048):
    """Argmax predictions over all classes."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def evaluate(model, x, y, classes=None):
    """Accuracy; with `classes`, on those classes' examples with the head restricted to them."""
    x, y = _restrict(x, y, classes)
    model.eval()
    return float((_logits(model, x, classes).argmax(1) == y).float().mean())


def set_threads(threads):
    """Use exactly `threads` CPU threads (CPU kernels are deterministic for a fixed count).

    torch.use_deterministic_algorithms is left to CUDA runs: it adds ~1 s to every job's
    start-up and changes nothing on the CPU.
    """
    torch.set_num_threads(threads)
