"""What every rule script shares: the entry point (job log, one-line errors), the job's
threads, device and data feeds, and models loaded from weight files.

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
             config=None):
    """An object with the attributes of the `snakemake` object a script receives, built from
    dicts, to call a script's `main` outside a workflow run."""
    from types import SimpleNamespace

    from snakemake.iocontainers import Namedlist

    def named(values):
        return Namedlist(fromdict=dict(values or {}))

    return SimpleNamespace(input=named(input), output=named(output), params=named(params),
                           wildcards=named(wildcards), threads=threads, log=list(log),
                           config=dict(config or {}))


def threads(smk):
    """Configure torch for the job's thread count and deterministic kernels."""
    from .train import set_threads

    set_threads(smk.threads)


def context(smk, train=True, augment=True, log=None):
    """(train feed, test feed) on the job's device (params.device), and the manifest; the
    train feed is None unless `train`, and its disk images are augmented unless not
    `augment`. Disk datasets are read from the prepared splits when the job has them as
    inputs `prepared_train` and `prepared_test` (dataset.prepared), else by params.workers
    DataLoader processes (null: the job's threads). `log` hears which device `device: auto`
    chose."""
    from . import devices
    from .batches import open_feeds
    from .partitions import load_manifest

    manifest = load_manifest(smk.input.partitions)
    device = devices.select(smk.params.device, log)
    workers = smk.threads if smk.params.workers is None else smk.params.workers
    prepared = {s: smk.input.get(f"prepared_{s}") for s in ("train", "test")}
    return open_feeds(manifest, smk.input.data, device, workers, train, augment,
                      prepared if prepared["test"] else None), manifest


def model_from(smk, manifest, weights_path):
    """The configured architecture (params.model) with the weights of `weights_path`."""
    from . import io, models

    model = models.build(smk.params.model, manifest["input_shape"], manifest["num_classes"])
    models.load_weights(model, io.load_tensors(weights_path), weights_path)
    return model
