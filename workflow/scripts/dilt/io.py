"""Atomic, safe file I/O: safetensors for tensors, JSON/TSV for tables, one-line errors."""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


class DiltError(Exception):
    """A user-facing problem with an input file or setting; printed as one line."""


@contextmanager
def atomic_path(path):
    """Yield a temp path next to `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path, obj):
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
        fh.write("\n")


def read_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise DiltError(f"{path}: cannot read JSON ({exc})") from None


def write_tsv(path, frame):
    """Write a pandas DataFrame as a tab-separated table without the index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g")


def read_tsv(path, **kwargs):
    import pandas as pd

    try:
        return pd.read_csv(path, sep="\t", **kwargs)
    except (OSError, ValueError) as exc:
        raise DiltError(f"{path}: cannot read TSV ({exc})") from None


def save_tensors(path, tensors):
    """Save a dict of torch tensors (contiguous, CPU) as safetensors, atomically."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp)


def load_tensors(path):
    """Load a safetensors file as a dict of torch tensors, naming the file on failure."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises several types for corrupt files
        raise DiltError(f"{path}: not a readable safetensors file ({exc})") from None


def save_arrays(path, arrays):
    """Save a dict of numpy arrays as safetensors, atomically."""
    import numpy as np
    from safetensors.numpy import save_file

    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    with atomic_path(path) as tmp:
        save_file(arrays, tmp)


def load_arrays(path):
    """Load a safetensors file as a dict of numpy arrays (no torch import)."""
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        raise DiltError(f"{path}: not a readable safetensors file ({exc})") from None


def save_npz(path, arrays):
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def load_npz(path):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise DiltError(f"{path}: not a readable npz file ({exc})") from None
