"""Training checkpoints: one safetensors file per job under a scratch directory.

The file holds tensors (model state, masks, optimizer state such as momentum or Adam
moments, a hook's tensors, the epoch's running loss and accuracy sums) and, as JSON in the
safetensors header metadata, the format, the job's fingerprint, the step and the hook's
other state: one file, replaced atomically, so a kill at any moment leaves the previous
checkpoint or the new one, never a mix. No random state is saved because none is needed:
the batch order is a function of (seed, epoch) (dilt.order) and every step reseeds torch
from (seed, step), so a run resumed on the CPU ends byte-identical to an uninterrupted one.
"""

import hashlib
import json
import os
import time
from pathlib import Path

import torch

from .io import DiltError, atomic_path

FORMAT = 1


def scratch_file(scratch, output):
    """The checkpoint path of the job writing `output` (a path relative to the working
    directory): the same for every attempt of the job, distinct between jobs."""
    return Path(scratch) / f"{Path(output).as_posix().lstrip('/')}.ckpt.safetensors"


def _raw(tensor):
    return tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()


def fingerprint(model, mask, labels, cfg, seed, classes, start_step):
    """A digest of what determines a training run: settings, seeds, start weights, mask and
    labels. A checkpoint with another fingerprint belongs to another job (or an older version
    of this one) and is not resumed."""
    digest = hashlib.sha256(json.dumps([FORMAT, cfg, seed, classes, start_step],
                                       sort_keys=True, default=str).encode())
    named = [*sorted(model.state_dict().items()), *sorted(mask.items()), ("labels", labels)]
    for name, tensor in named:
        digest.update(name.encode())
        digest.update(_raw(tensor))
    return digest.hexdigest()


class Checkpoint:
    """Where and how often a training job saves its state (see train.train).

    A checkpoint is written every `minutes` of training (None: never by time) and, when
    `steps` is set, after every `steps` optimizer steps. The caller removes the file once the
    job's outputs are written (remove()).
    """

    POLL = 16  # steps between two time checks when several processes must agree

    def __init__(self, path, minutes=30.0, steps=None):
        self.path, self.minutes, self.steps = Path(path), minutes, steps
        self._last = time.monotonic()

    def due(self, step, group):
        """Whether to save after `step` steps; every process of `group` gets the same answer."""
        if self.steps and step % self.steps == 0:
            return True
        if self.minutes is None or step % (1 if group.world == 1 else self.POLL):
            return False
        return group.agree(time.monotonic() - self._last >= 60 * self.minutes)

    def save(self, tensors, meta):
        """Write tensors + JSON metadata atomically (temp file, fsync, rename)."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        with atomic_path(self.path) as tmp:
            save_file(tensors, tmp, metadata={"dilt": json.dumps(meta, sort_keys=True)})
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        self._last = time.monotonic()

    def load(self, fingerprint, log):
        """(tensors, meta) of the job's checkpoint, or None when there is none or it belongs to
        another job (logged). An unreadable file raises DiltError naming it: checkpoints are
        replaced atomically, so damage means a problem of the file system worth a look."""
        from safetensors import safe_open

        self._last = time.monotonic()
        if not self.path.exists():
            return None
        try:
            with safe_open(str(self.path), "pt") as fh:
                meta = json.loads((fh.metadata() or {})["dilt"])
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}
            step = int(meta["step"])
        except Exception as exc:  # safetensors raises several types for damaged files
            raise DiltError(f"{self.path}: unreadable training checkpoint ({exc}); delete it "
                            f"to train this job from the start") from None
        if meta.get("format") != FORMAT or meta.get("fingerprint") != fingerprint:
            log(f"{self.path}: checkpoint of another job or version, training from the start")
            return None
        return tensors, {**meta, "step": step}

    def remove(self):
        """Delete the checkpoint and any temp file a killed write left beside it."""
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
