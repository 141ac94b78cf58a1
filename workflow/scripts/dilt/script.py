"""Entry point shared by the rule scripts: logging to the job's log and one-line errors."""

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


def threads(smk):
    """Configure torch for the job's thread count and deterministic kernels."""
    from .train import set_threads

    set_threads(smk.threads)
