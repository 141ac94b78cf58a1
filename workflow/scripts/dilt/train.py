"""Masked training on a feed (dilt.batches): pruned weights stay exactly zero at every step."""

import math
import time

import torch
from torch import nn
from torch.optim.sgd import sgd

from . import devices
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
            params[name].mul_(m.to(params[name].device, params[name].dtype))


def _logits(model, x, classes):
    out = model(devices.to_input(x))
    return out if classes is None else out[:, list(classes)]


class _SGD:
    """torch.optim.SGD's update, applied through its functional form torch.optim.sgd.sgd.

    Same arithmetic as SGD(params, lr, momentum, weight_decay=..., nesterov=...) (tested), but
    a torch.optim optimizer object imports torch._dynamo on first use: over a second of CPU
    in every training job, more than a default IMP round's training.
    """

    def __init__(self, params, lr, momentum, weight_decay, nesterov):
        self.params = [p for p in params if p.requires_grad]
        self.buffers = [None] * len(self.params)
        self.param_groups = [{"lr": lr}]
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov

    @property
    def state(self):
        """{param: {"momentum_buffer": buffer}}, as torch.optim optimizers keep it."""
        return {p: {"momentum_buffer": b}
                for p, b in zip(self.params, self.buffers, strict=True) if b is not None}

    def zero_grad(self, set_to_none=True):
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self):
        sgd(self.params, [p.grad for p in self.params], self.buffers,
            weight_decay=self.weight_decay, momentum=self.momentum,
            lr=self.param_groups[0]["lr"], dampening=0.0, nesterov=self.nesterov,
            maximize=False, foreach=self.params[0].is_cuda)  # SGD's own default


class _Schedule:
    """LambdaLR's rule, lr = initial lr x factor(step), for _SGD and torch optimizers alike."""

    def __init__(self, opt, factor):
        self.groups, self.factor, self.last = opt.param_groups, factor, 0
        self.base = [group["lr"] for group in self.groups]
        self._set()

    def _set(self):
        for group, base in zip(self.groups, self.base, strict=True):
            group["lr"] = base * self.factor(self.last)

    def step(self):
        self.last += 1
        self._set()


def _optimizer(model, cfg):
    """SGD (Nesterov momentum when momentum > 0) or AdamW; AdamW exempts biases, norms and
    the parameters a timm model lists in no_weight_decay() from weight decay."""
    if cfg.get("optimizer", "sgd") == "sgd":
        return _SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                    weight_decay=cfg["weight_decay"], nesterov=cfg["momentum"] > 0)
    skip = model.no_weight_decay() if hasattr(model, "no_weight_decay") else set()
    decay, plain = [], []
    for name, param in model.named_parameters():
        (plain if param.ndim <= 1 or name in skip else decay).append(param)
    return torch.optim.AdamW([{"params": decay}, {"params": plain, "weight_decay": 0.0}],
                             lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def _schedule(opt, total, warmup):
    """Linear warm-up over `warmup` steps, then cosine decay to zero at step `total`."""
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))

    return _Schedule(opt, factor)


def total_steps(n, cfg):
    """Optimizer steps of one training run on `n` examples."""
    return cfg["epochs"] * math.ceil(n / cfg["batch_size"])


def train(model, mask, data, cfg, seed, classes=None, log=print, hook=None):
    """Train `model` on the feed `data` under `mask`; returns training statistics.

    cfg (config section train): epochs, batch_size, lr, momentum, weight_decay, and
    optionally optimizer (sgd | adamw), warmup_epochs, label_smoothing, grad_clip (max global
    norm of the masked gradient). The schedule is
    cosine after the warm-up. `classes` restricts training to those classes (the head's other
    outputs are unused). Gradients of pruned weights are zeroed before each step, so momentum
    and weight decay never move them: pruned weights stay exactly zero. The model is moved
    to the feed's device, in channels_last when it convolves; on CUDA it runs in bf16 autocast.
    `hook(step, model, masks, opt)`, if given, runs after each backward pass and before the
    pruned gradients are zeroed: the weights are those after `step` optimizer steps, the
    gradients are dense, and `masks` (float, by name) may be changed in place (RigL).
    """
    if classes is not None:
        data = data.restrict(classes)
    if len(data) == 0:
        raise DiltError(f"partitions: no training examples for classes {classes}")
    device = data.device
    devices.prepare(model, device)
    params = dict(model.named_parameters())
    masks = {n: m.to(device, params[n].dtype) for n, m in (mask or {}).items()}
    if mask:
        apply_mask(model, mask)
    opt = _optimizer(model, cfg)
    steps_per_epoch = math.ceil(len(data) / cfg["batch_size"])
    total = total_steps(len(data), cfg)
    warmup = min(round(cfg.get("warmup_epochs", 0) * steps_per_epoch), total - 1)
    sched = _schedule(opt, total, warmup)
    torch.manual_seed(seed)  # augmentation in the main process, dropout, drop-path
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.get("label_smoothing", 0.0))
    clip = cfg.get("grad_clip")
    start, step = time.perf_counter(), 0
    model.train()
    for epoch in range(cfg["epochs"]):
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        for x, y in data.batches(cfg["batch_size"], gen):
            with devices.autocast(device):
                out = _logits(model, x, classes)
                loss = loss_fn(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if hook is not None:
                hook(step, model, masks, opt)
            for name, m in masks.items():
                params[name].grad.mul_(m)
            if clip:
                nn.utils.clip_grad_norm_(params.values(), clip)
            opt.step()
            sched.step()
            step += 1
            total_loss += loss.detach().double() * len(y)
            correct += (out.argmax(1) == y).sum()
        train_loss, train_acc = total_loss.item() / len(data), correct.item() / len(data)
        seconds = time.perf_counter() - start
        log(f"epoch {epoch + 1}/{cfg['epochs']} loss {train_loss:.4f} acc {train_acc:.4f} "
            f"elapsed {seconds:.1f}s ({(epoch + 1) * len(data) / seconds:.1f} samples/s)")
    # Wall time goes to the log and the benchmark file only, so results stay byte-identical.
    return {"epochs": cfg["epochs"], "steps": step, "train_loss": train_loss,
            "train_acc": train_acc}


@torch.no_grad()
def predict(model, data):
    """(argmax predictions over all classes, labels) for every example of a feed, on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    preds = []
    for x, _ in data.batches(data.eval_batch):
        with devices.autocast(device):
            preds.append(model(devices.to_input(x)).argmax(1).cpu())
    return torch.cat(preds), data.labels


@torch.no_grad()
def evaluate(model, data, classes=None):
    """Accuracy; with `classes`, on those classes' examples with the head restricted to them."""
    if classes is not None:
        data = data.restrict(classes)
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for x, y in data.batches(data.eval_batch):
        with devices.autocast(device):
            correct += int((_logits(model, x, classes).argmax(1) == y).sum())
    return correct / len(data)


def set_threads(threads):
    """Use exactly `threads` CPU threads (CPU kernels are deterministic for a fixed count).

    torch.use_deterministic_algorithms is left to CUDA runs: it adds ~1 s to every job's
    start-up and changes nothing on the CPU.
    """
    torch.set_num_threads(threads)
