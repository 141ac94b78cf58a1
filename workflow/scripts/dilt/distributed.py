"""Data-parallel training over several processes: one per GPU (NCCL), or gloo on the CPU.

train.train(..., processes=N) runs its training loop in the calling process as rank 0 and
in N-1 spawned processes. Each rank computes the gradient of its shard of every global batch
(dilt.order), scaled by (shard loss sum) / (global batch size); one all-reduce per step
sums them into the global batch's mean gradient on every rank, which then applies the same
hook, mask, clipping and optimizer step: the replicas stay identical and pruned weights
exactly zero on every rank. Floating-point buffers (BatchNorm running statistics) are
averaged in the same all-reduce; BatchNorm normalises each shard with its own statistics,
as in standard data-parallel training. Only rank 0 logs, writes checkpoints and returns
the trained model; the spawned ranks work on copies and exit.
"""

import copy
import sys
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from .io import DiltError

TIMEOUT = timedelta(minutes=10)  # a rank waiting longer for the others fails the job


class Group:
    """This process's place among the job's training processes and the collectives used."""

    def __init__(self, rank=0, world=1, device=None):
        self.rank, self.world, self.device = rank, world, device

    def reduce(self, params, buffers):
        """Sum the gradients of `params` and average `buffers` over the ranks, in place."""
        if self.world == 1:
            return
        grads = [p.grad for p in params]
        flat = torch.cat([t.reshape(-1) for t in grads]
                         + [b.reshape(-1) / self.world for b in buffers])
        dist.all_reduce(flat)
        for t in grads + buffers:
            t.copy_(flat[:t.numel()].view(t.shape))
            flat = flat[t.numel():]

    def sum_(self, tensor):
        """Sum `tensor` over the ranks, in place."""
        if self.world > 1:
            dist.all_reduce(tensor)
        return tensor

    def agree(self, flag):
        """Rank 0's `flag`, on every rank."""
        if self.world == 1:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.broadcast(value, 0)
        return bool(value.item())


SOLO = Group()


def rank_device(device, rank):
    """The device of process `rank` when rank 0 uses `device` (cuda:i -> cuda:i+rank)."""
    device = torch.device(device)
    if device.type != "cuda":
        return device
    return torch.device("cuda", (device.index or 0) + rank)


def check(processes, device):
    """Raise DiltError naming `gpus` unless `processes` devices of that kind exist."""
    if processes < 1:
        raise DiltError(f"gpus: {processes} training processes requested, at least 1 needed")
    device = torch.device(device)
    if device.type == "cuda" and (device.index or 0) + processes > torch.cuda.device_count():
        raise DiltError(f"gpus: {processes} GPUs requested from {device}, but only "
                        f"{torch.cuda.device_count()} CUDA device(s) are visible")


def _join(rank, world, device, url, threads):
    torch.set_num_threads(threads)
    device = rank_device(device, rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method=url,
                            rank=rank, world_size=world, timeout=TIMEOUT,
                            device_id=device if device.type == "cuda" else None)
    return Group(rank, world, device)


def _rank(rank, world, device, url, threads, target, args):
    """A spawned process: join the group, run its own copy of the job, leave. Tensors arrive
    in shared memory, so models are copied again: ranks never share parameters."""
    group = _join(rank, world, device, url, threads)
    target(group, *(copy.deepcopy(a) if isinstance(a, torch.nn.Module) else a for a in args))
    dist.destroy_process_group()


@contextmanager
def _main_hidden():
    """Spawned processes re-run the parent's __main__ module unless it is hidden; a rule
    script run by Snakemake would start its whole job again. The target is a library
    function, so nothing of __main__ is needed (objects sent to the ranks must not be
    defined there)."""
    main = sys.modules["__main__"]
    spec, path = getattr(main, "__spec__", None), main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path


def _copies(args):
    """What a spawned rank receives: models copied onto the CPU, feeds served from the CPU."""
    return tuple(copy.deepcopy(a).cpu() if isinstance(a, torch.nn.Module)
                 else a.to("cpu") if hasattr(a, "shard_batches") else a
                 for a in args)


def launch(processes, device, target, args, rank_args):
    """Run target(group, *args) here as rank 0 of `processes` processes and
    target(group, *rank_args) in each of the others (spawned); return rank 0's result.

    `device` is rank 0's device; rank r uses rank_device(device, r). Each process uses the
    caller's torch threads divided by `processes`. A failing rank fails the job.
    """
    import torch.multiprocessing as mp

    check(processes, device)
    local = [a for a in rank_args if getattr(a, "__module__", None) == "__main__"]
    if local:
        name = getattr(local[0], "__qualname__", type(local[0]).__qualname__)
        raise DiltError(f"{name}: what other training processes receive (hooks) must be "
                        f"defined in an importable module, not in the running script")
    ctx = mp.get_context("spawn")
    threads = torch.get_num_threads()
    share, sent = max(1, threads // processes), _copies(rank_args)
    with tempfile.TemporaryDirectory(prefix="dilt-ranks-") as tmp:
        url = Path(tmp, "rendezvous").as_uri()
        ranks = [ctx.Process(target=_rank, daemon=True,
                             args=(r, processes, device, url, share, target, sent))
                 for r in range(1, processes)]
        with _main_hidden():
            for process in ranks:
                process.start()
        try:
            group = _join(0, processes, device, url, share)
            result = target(group, *args)
        except BaseException as exc:
            for process in ranks:
                process.join(timeout=1)
            failed = [(r, p.exitcode) for r, p in enumerate(ranks, 1) if p.exitcode]
            _stop(ranks)
            if failed:
                rank, code = failed[0]
                raise DiltError(f"training process {rank} of {processes} failed (exit code "
                                f"{code}); its error is printed above") from exc
            raise
        finally:
            torch.set_num_threads(threads)
        for process in ranks:
            process.join()
        dist.destroy_process_group()
    failed = [(r, p.exitcode) for r, p in enumerate(ranks, 1) if p.exitcode]
    if failed:
        raise DiltError(f"training process {failed[0][0]} of {processes} failed (exit code "
                        f"{failed[0][1]}); its error is printed above")
    return result


def _stop(ranks):
    """End the spawned ranks still running (they wait on rank 0) and leave the group."""
    for process in ranks:
        if process.is_alive():
            process.terminate()
        process.join()
    if dist.is_initialized():
        dist.destroy_process_group()
