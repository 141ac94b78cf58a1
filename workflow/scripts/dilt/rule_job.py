"""What every rule script shares: the entry point (job log, one-line errors), the job's
threads, device (its own GPUs), training processes, checkpoint and data feeds, and models
loaded from weight files.

A script defines `main(smk, log)` and ends with
    if __name__ == "__main__":
        run(main, snakemake)
so that it can also be imported, and `main` called with `stand_in(...)` for debugging.
"""

import sys
import time

from .io import DiltError


def run(main, smk):
    """Call main(smk, log); a DiltError becomes one line on stderr and in the log, exit 1."""
    path = smk.log[0] if smk.log else None
    sink = open(path, "a", buffering=1) if path else sys.stderr
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:7.1f}s] {message}", file=sink, flush=True)

    try:
        main(smk, log)
    except DiltError as exc:
        log(f"error: {exc}")
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        if path:
            sink.close()


def stand_in(input=None, output=None, params=None, wildcards=None, threads=1, log=(),
             resources=None, config=None):
    """An object with the attributes of the `snakemake` object a script receives, built from
    dicts, to call a script's `main` outside a workflow run."""
    from types import SimpleNamespace

    from snakemake.iocontainers import Namedlist

    def named(values):
        return Namedlist(fromdict=dict(values or {}))

    return SimpleNamespace(input=named(input), output=named(output), params=named(params),
                           wildcards=named(wildcards), threads=threads, log=list(log),
                           resources=named(resources), config=dict(config or {}))


def write_pruned(smk, i, mask, weights, record):
    """The i-th target's outputs of a baseline that prunes trained weights (CAP, SAViT): its
    mask, the pruned weights and the record (output lists masks, weights, records)."""
    from . import io

    io.save_tensors(smk.output.masks[i], mask)
    io.save_tensors(smk.output.weights[i], weights)
    io.write_json(smk.output.records[i], record)


def threads(smk):
    """Configure torch for the job's thread count and deterministic kernels."""
    from .train import set_threads

    set_threads(smk.threads)


def gpus(smk):
    """The GPUs the job was given (its `gpu` resource, from config section resources)."""
    return int(smk.resources.get("gpu", 0) or 0)


def processes(smk):
    """Training processes of the job: one per GPU (on the CPU: gloo processes), at least 1."""
    return max(1, gpus(smk))


def device(smk, log=None):
    """The job's torch.device (params.device). A job with GPUs first makes them its own
    (dilt.gpu_slots: SLURM's allocation, or lock files on a workstation), so that it sees
    them as cuda:0..N-1 and no other job uses them. `log` hears the GPUs claimed and the
    device used."""
    from . import devices, gpu_slots

    if smk.params.device in ("auto", "cuda") and gpus(smk):
        gpu_slots.claim(gpus(smk), log)
    chosen = devices.select(smk.params.device, log)
    if log is not None and smk.params.device != "auto":  # select() logs what auto chose
        info = devices.describe(chosen)
        log(f"device: {info['device']}" + (f" ({info['gpu_name']})" if info["gpu_name"] else ""))
    return chosen


def data_root(smk):
    """dataset.data_root, read from the config (not a rule parameter): the data's location is
    no part of any result, so moving the data reruns nothing."""
    return (getattr(smk, "config", None) or {}).get("dataset", {}).get("data_root")


def checkpoint(smk):
    """The job's training checkpoint (dilt.checkpoint), named after its first output under
    checkpoint.scratch, saved every checkpoint.minutes (and checkpoint.steps); None when both
    are null. Read from the config, not from rule parameters: changing them reruns nothing."""
    from .checkpoint import Checkpoint, scratch_file

    cfg = (getattr(smk, "config", None) or {}).get("checkpoint") or {}
    if cfg.get("minutes") is None and cfg.get("steps") is None:
        return None
    return Checkpoint(scratch_file(cfg["scratch"], smk.output[0]), cfg.get("minutes"),
                      cfg.get("steps"))


def training(smk):
    """The job's keyword arguments of train.train: its checkpoint and training processes."""
    return {"checkpoint": checkpoint(smk), "processes": processes(smk)}


def finished(smk):
    """Remove the job's training checkpoint: call it once the outputs are written (until
    then a rerun resumes from the checkpoint)."""
    saved = checkpoint(smk)
    if saved:
        saved.remove()


def context(smk, train=True, augment=True, log=None):
    """(train feed, test feed) on the job's device (see device()), and the manifest; the
    train feed is None unless `train`, and its disk images are augmented unless not
    `augment`. Disk datasets are read from the prepared splits when the job has them as
    inputs `prepared_train` and `prepared_test` (dataset.prepared), else from
    dataset.data_root by params.workers DataLoader processes per training process (null: the
    job's threads per process). `log` hears which device the job uses."""
    from .batches import open_feeds
    from .partitions import load_manifest

    manifest = load_manifest(smk.input.partitions)
    chosen = device(smk, log)
    workers = smk.params.workers
    if workers is None:
        workers = max(1, smk.threads // processes(smk))
    prepared = {s: smk.input.get(f"prepared_{s}") for s in ("train", "test")}
    return open_feeds(manifest, smk.input.data, chosen, workers, train, augment,
                      prepared if prepared["test"] else None, data_root(smk)), manifest


def model_from(smk, manifest, weights_path):
    """The configured architecture (params.model) with the weights of `weights_path`."""
    from . import io, models

    model = models.build(smk.params.model, manifest["input_shape"], manifest["num_classes"])
    models.load_weights(model, io.load_tensors(weights_path), weights_path)
    return model
