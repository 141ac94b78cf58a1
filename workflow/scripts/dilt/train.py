"""Masked training on a feed (dilt.batches): pruned weights stay exactly zero at every step."""

import math
import time

import torch
from torch import nn
from torch.optim.sgd import sgd

from . import checkpoint as ckpt
from . import devices, distributed, order
from .augment import progressive_size
from .io import DiltError
from .seeding import job_seed


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
    in every training job, more than a default IMP round's training. `state` is
    {param: {"momentum_buffer": buffer}}, as torch.optim optimizers keep it.
    """

    def __init__(self, params, lr, momentum, weight_decay, nesterov):
        self.params = [p for p in params if p.requires_grad]
        self.state = {}
        self.param_groups = [{"lr": lr}]
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov

    def zero_grad(self, set_to_none=True):
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self):
        buffers = [self.state.get(p, {}).get("momentum_buffer") for p in self.params]
        sgd(self.params, [p.grad for p in self.params], buffers,
            weight_decay=self.weight_decay, momentum=self.momentum,
            lr=self.param_groups[0]["lr"], dampening=0.0, nesterov=self.nesterov,
            maximize=False, foreach=self.params[0].is_cuda)  # SGD's own default
        if self.momentum:
            for param, buffer in zip(self.params, buffers, strict=True):
                self.state[param] = {"momentum_buffer": buffer}


class _Schedule:
    """LambdaLR's rule, lr = initial lr x factor(step), for _SGD and torch optimizers alike;
    it starts at step `start`."""

    def __init__(self, opt, factor, start=0):
        self.groups, self.factor, self.last = opt.param_groups, factor, start
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


def _schedule(opt, total, warmup, start=0):
    """Linear warm-up over `warmup` steps, then cosine decay to zero at step `total`."""
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))

    return _Schedule(opt, factor, start)


def total_steps(n, cfg):
    """Optimizer steps of one training run on `n` examples."""
    return cfg["epochs"] * math.ceil(n / cfg["batch_size"])


def train(model, mask, data, cfg, seed, classes=None, log=print, hook=None, *, start_step=0,
          checkpoint=None, processes=1):
    """Train `model` on the feed `data` under `mask`; returns training statistics.

    cfg (config section train): epochs, batch_size, lr, momentum, weight_decay, and
    optionally optimizer (sgd | adamw), warmup_epochs, label_smoothing, grad_clip (max global
    norm of the masked gradient), resolution (progressive resizing of a prepared feed:
    {min_res, max_res, start_ramp, end_ramp}, dilt.augment.progressive_size sets the
    feed's size each epoch). The schedule is cosine after the warm-up. `classes`
    restricts training to those classes (the head's other outputs are unused). Gradients of
    pruned weights are zeroed before each step, so momentum and weight decay never move
    them: pruned weights stay exactly zero. The model is moved to the feed's device, in
    channels_last when it convolves; on CUDA it runs in bf16 autocast.

    Epoch e visits the examples in an order drawn from (seed, e) (dilt.order) and step s
    reseeds torch (dropout, drop-path) from (seed, s), so the steps from any step on do not
    depend on where the run started. `start_step` k > 0 trains steps k..end only, the
    learning-rate schedule and batch order continuing from step k with a fresh optimizer
    (late rewinding, dilt.rewind; open_lth's start_step).

    `hook(step, model, masks, opt)`, if given, runs after each backward pass (and gradient
    all-reduce) and before the pruned gradients are zeroed: the weights are those after
    `step` optimizer steps, the gradients are dense, and `masks` (float, by name) may be
    changed in place (RigL). A hook with state_dict() / load_state_dict() (values: tensors
    or JSON-able) keeps its state through a resumed run.

    `checkpoint` (dilt.checkpoint.Checkpoint), if given, is resumed from when it holds a
    checkpoint of this very job and written while training; removing it once the outputs
    are written is the caller's part. `processes` > 1 trains data-parallel, one process per
    GPU of the feed's device type (dilt.distributed); hooks then must be picklable and each
    rank runs its own copy (this process's copy is rank 0's). The statistics hold the last
    epoch's loss and accuracy and the device description (devices.describe).
    """
    if classes is not None:
        data = data.restrict(classes)
    if cfg.get("resolution") and not hasattr(data, "size"):
        raise DiltError("train.resolution: progressive resizing needs a prepared image feed "
                        "(dataset.prepared)")
    if len(data) == 0:
        raise DiltError(f"partitions: no training examples for classes {classes}")
    total = total_steps(len(data), cfg)
    if not 0 <= start_step < total:
        raise DiltError(f"start_step: {start_step} is not below the {total} training steps")
    mask = mask or {}
    job = resume = None
    if checkpoint is not None:
        job = ckpt.fingerprint(model, mask, data.labels, cfg, seed, classes, start_step)
        resume = checkpoint.load(job, log)
    args = (model, mask, data, cfg, seed, classes, hook, start_step, checkpoint, job, resume)
    if processes == 1:
        return _train(distributed.SOLO, *args, log)
    return distributed.launch(processes, data.device, _train, (*args, log), (*args, None))


def _train(group, model, mask, data, cfg, seed, classes, hook, start_step, checkpoint, job,
           resume, log):
    """train()'s loop in one process of `group` (log None: a silent rank)."""
    log = log or (lambda _: None)
    device = data.device if group.world == 1 else group.device
    if data.device != device:
        data = data.to(device)
    devices.prepare(model, device)
    params = dict(model.named_parameters())
    masks = {n: m.to(device, params[n].dtype) for n, m in mask.items()}
    apply_mask(model, masks)
    opt = _optimizer(model, cfg)
    n, batch = len(data), cfg["batch_size"]
    per_epoch = math.ceil(n / batch)
    total = total_steps(n, cfg)
    step, tally = start_step, _Tally(device)
    if resume is not None:
        step = _restore(resume, checkpoint.path, model, opt, masks, hook, tally, group.rank)
        log(f"resumed from {checkpoint.path} at step {step}")
    sched = _schedule(opt, total, min(round(cfg.get("warmup_epochs", 0) * per_epoch),
                                      total - 1), step)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.get("label_smoothing", 0.0),
                                  reduction="mean" if group.world == 1 else "sum")
    trained = [p for p in params.values() if p.requires_grad]
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    clip = cfg.get("grad_clip")
    info = devices.describe(device, group.world)
    log(f"training steps {step}..{total}: "
        + ", ".join(f"{k} {v}" for k, v in info.items() if v is not None))
    clock, done = time.perf_counter(), 0
    model.train()
    resolution = cfg.get("resolution")
    for epoch in range(step // per_epoch, cfg["epochs"]):
        if step == epoch * per_epoch:
            tally = _Tally(device)
        if resolution:
            data.size = progressive_size(epoch, **resolution)
        for x, y in order.batches(data, batch, seed, epoch, step - epoch * per_epoch,
                                  group.rank, group.world):
            devices.reseed(device, job_seed(seed, "step", step, group.rank))
            size = min(batch, n - (step - epoch * per_epoch) * batch)  # the global batch
            opt.zero_grad(set_to_none=True)
            if len(y):
                with devices.autocast(device):
                    out = _logits(model, x, classes)
                    loss = loss_fn(out, y)
                (loss if group.world == 1 else loss / size).backward()
            else:  # an empty shard of a last batch smaller than the processes
                for param in trained:
                    param.grad = torch.zeros_like(param)
            group.reduce(trained, buffers)
            if hook is not None:
                hook(step, model, masks, opt)
            for name, m in masks.items():
                params[name].grad.mul_(m)
            if clip:
                nn.utils.clip_grad_norm_(params.values(), clip)
            opt.step()
            sched.step()
            step += 1
            done += size
            if len(y):
                tally.add(loss.detach().double() * (len(y) if group.world == 1 else 1), out, y)
            if checkpoint is not None and step < total and checkpoint.due(step, group):
                _save(checkpoint, group, model, opt, masks, hook, tally, step, job)
        loss_sum, correct, seen = tally.total(group)
        train_loss, train_acc = loss_sum / seen, correct / seen
        seconds = time.perf_counter() - clock
        log(f"epoch {epoch + 1}/{cfg['epochs']} loss {train_loss:.4f} acc {train_acc:.4f} "
            + (f"at {data.size}px " if resolution else "")
            + f"elapsed {seconds:.1f}s ({done / seconds:.1f} samples/s)")
    # Wall time goes to the log and the benchmark file only, so results stay byte-identical.
    return {"epochs": cfg["epochs"], "steps": step, "start_step": start_step,
            "train_loss": train_loss, "train_acc": train_acc,
            "runtime": info}


class _Tally:
    """The current epoch's summed loss, correct predictions and examples on this rank."""

    def __init__(self, device):
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.correct = torch.zeros((), dtype=torch.long, device=device)
        self.seen = 0

    def add(self, loss_sum, out, y):
        self.loss += loss_sum
        self.correct += (out.argmax(1) == y).sum()
        self.seen += len(y)

    def packed(self):
        """(loss, correct, seen) as one float64 tensor (exact for counts below 2**53)."""
        return torch.stack([self.loss, self.correct.double(),
                            torch.tensor(float(self.seen), dtype=torch.float64,
                                         device=self.loss.device)])

    def unpack(self, packed):
        self.loss.copy_(packed[0])
        self.correct.copy_(packed[1].long())
        self.seen = int(packed[2])

    def total(self, group):
        """(loss, correct, seen) summed over the ranks of `group`."""
        if group.world == 1:
            return self.loss.item(), self.correct.item(), self.seen
        return tuple(group.sum_(self.packed()).tolist())


def _save(checkpoint, group, model, opt, masks, hook, tally, step, job):
    """Checkpoint the training state (rank 0 writes; the epoch's tally moves to rank 0)."""
    sums = group.sum_(tally.packed())
    tally.unpack(sums if group.rank == 0 else torch.zeros_like(sums))
    if group.rank:
        return
    params = dict(model.named_parameters())
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"mask/{k}": m for k, m in masks.items()})
    tensors.update({f"opt/{name}/{slot}": value for name, p in params.items()
                    for slot, value in opt.state.get(p, {}).items()})
    tensors["sums"] = sums
    state = hook.state_dict() if hasattr(hook, "state_dict") else {}
    tensors.update({f"hook/{k}": v for k, v in state.items() if torch.is_tensor(v)})
    checkpoint.save(tensors, {"format": ckpt.FORMAT, "fingerprint": job, "step": step,
                              "hook": {k: v for k, v in state.items()
                                       if not torch.is_tensor(v)}})


def _restore(resume, path, model, opt, masks, hook, tally, rank):
    """Load a checkpoint's state in place; returns its step. Rank 0 takes the epoch's tally."""
    tensors, meta = resume

    def part(prefix):
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    try:
        model.load_state_dict(part("model/"))
        for name, m in masks.items():
            m.copy_(tensors[f"mask/{name}"])
        params = dict(model.named_parameters())
        for key, value in part("opt/").items():
            name, slot = key.rsplit("/", 1)
            param = params[name]  # buffers in the parameter's device and memory layout
            opt.state.setdefault(param, {})[slot] = value if value.dim() == 0 else \
                torch.empty_like(param, dtype=value.dtype).copy_(value)
        if rank == 0:
            tally.unpack(tensors["sums"])
        if hasattr(hook, "load_state_dict"):
            hook.load_state_dict({**meta["hook"], **part("hook/")})
    except (KeyError, RuntimeError) as exc:
        raise DiltError(f"{path}: checkpoint does not fit this job ({exc})") from None
    return meta["step"]


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
