"""Which GPUs a job trains on, so that no two jobs share one.

Under SLURM a job asking for N GPUs sees exactly its N (CUDA_VISIBLE_DEVICES): nothing to
do. Everywhere else (a workstation, or a SLURM allocation with more GPUs than the job asks
for) the job claims N of the visible GPUs through one lock file per GPU: an exclusive
flock that the process holds until it exits, so a crash frees its GPUs. The claimed GPUs
become CUDA_VISIBLE_DEVICES, so the job (and the training processes it spawns) sees them
as cuda:0..N-1. Claims are all-or-nothing; a job that finds fewer free GPUs waits.

This must run before CUDA is initialised in the process (rule_job.device calls it first).
"""

import fcntl
import os
import re
import tempfile
import time
from pathlib import Path

from .io import DiltError

LOCKS_ENV = "DILT_GPU_LOCKS"  # directory of the lock files (default: <tmp>/dilt-gpu-locks)
_HELD = []  # open lock files of this process's GPUs


def device_count():
    """GPUs on this machine, counted without initialising CUDA (NVML, else /dev/nvidiaN)."""
    import torch

    count = torch.cuda._raw_device_count_nvml()
    if count >= 0:
        return count
    return sum(1 for p in Path("/dev").glob("nvidia*") if re.fullmatch(r"nvidia\d+", p.name))


def visible(environ, count_gpus=device_count):
    """The GPU ids the process may use: CUDA_VISIBLE_DEVICES's entries, or every GPU."""
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip()]
    return [str(i) for i in range(count_gpus())]


def _lock_dir(environ):
    path = Path(environ.get(LOCKS_ENV) or Path(tempfile.gettempdir()) / "dilt-gpu-locks")
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        try:  # shared by every user of the machine, like /tmp
            path.chmod(0o1777)
        except OSError:
            pass
    return path


def _try_lock(path):
    """An open file holding an exclusive lock on `path`, or None if another process holds it."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def claim(count, log=None, *, environ=None, count_gpus=device_count, poll=5.0, timeout=None):
    """Make `count` GPUs this process's own; returns their ids (empty when none is visible:
    devices.select then decides). Sets CUDA_VISIBLE_DEVICES in `environ` (os.environ) to them.

    Waits while fewer than `count` are free, at most `timeout` seconds (None: as long as it
    takes). Raises DiltError when the machine has fewer than `count` GPUs.
    """
    environ = os.environ if environ is None else environ
    ids = visible(environ, count_gpus)
    if count < 1 or not ids:
        return []
    if len(ids) < count:
        raise DiltError(f"resources: the job asks for {count} GPUs (gpus in config section "
                        f"resources), but {len(ids)} are visible")
    if "SLURM_JOB_ID" in environ and "CUDA_VISIBLE_DEVICES" in environ and len(ids) == count:
        return ids  # SLURM's allocation: these GPUs are the job's alone
    locks, start, waiting = _lock_dir(environ), time.monotonic(), False
    while True:
        got = []
        for gpu in ids:
            fd = _try_lock(locks / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', gpu)}.lock")
            if fd is not None:
                got.append((gpu, fd))
                if len(got) == count:
                    break
        if len(got) == count:
            _HELD.extend(fd for _, fd in got)
            claimed = [gpu for gpu, _ in got]
            environ["CUDA_VISIBLE_DEVICES"] = ",".join(claimed)
            if log:
                log(f"GPUs {','.join(claimed)} of {','.join(ids)} claimed (locks in {locks})")
            return claimed
        for _, fd in got:
            os.close(fd)
        if timeout is not None and time.monotonic() - start >= timeout:
            raise DiltError(f"resources: no {count} free GPUs among {','.join(ids)} after "
                            f"{timeout:.0f} s (locks in {locks}); run with --resources gpu=N")
        if log and not waiting:
            log(f"waiting for {count} free GPU(s) among {','.join(ids)} (locks in {locks})")
            waiting = True
        time.sleep(poll)


def release():
    """Give up this process's GPUs (they are also freed when the process exits)."""
    while _HELD:
        os.close(_HELD.pop())
