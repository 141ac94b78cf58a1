"""Class partitions (contiguous, seeded random, explicit) and the held-out probe set."""

import hashlib
import json

import numpy as np

from .io import DiltError


def make_partitions(num_classes, k, scheme="contiguous", classes=None, seed=0):
    """Split class ids into k disjoint groups; returns [{"name": "p0", "classes": [...]}, ...]."""
    if scheme == "explicit":
        groups = [sorted(int(c) for c in g) for g in classes or []]
        if len(groups) != k:
            raise DiltError(f"partitions.classes: {len(groups)} groups given, partitions.k is {k}")
    else:
        if k > num_classes:
            raise DiltError(f"partitions.k: {k} partitions for {num_classes} classes")
        order = np.arange(num_classes)
        if scheme == "random":
            order = np.random.default_rng(seed).permutation(num_classes)
        groups = [sorted(int(c) for c in g) for g in np.array_split(order, k)]
    check_disjoint(groups, num_classes, "partitions.classes")
    return [{"name": f"p{i}", "classes": g} for i, g in enumerate(groups)]


def check_disjoint(groups, num_classes, where):
    """Raise DiltError (naming `where`) unless groups are non-empty, in range and disjoint."""
    seen = set()
    for i, group in enumerate(groups):
        if not group:
            raise DiltError(f"{where}: partition {i} has no classes")
        bad = [c for c in group if not 0 <= c < num_classes]
        if bad:
            raise DiltError(f"{where}: classes {bad} outside 0..{num_classes - 1}")
        overlap = seen & set(group)
        if overlap:
            raise DiltError(f"{where}: class(es) {sorted(overlap)} in more than one partition")
        seen |= set(group)


def probe_indices(labels, classes, per_class, seed):
    """Seeded, class-balanced sample of `per_class` held-out indices per class, in class order."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    out = []
    for c in classes:
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise DiltError(f"probe.per_class: class {c} has only {len(pool)} held-out examples")
        out.extend(int(i) for i in np.sort(rng.choice(pool, per_class, replace=False)))
    if not out:
        raise DiltError("probe.per_class: the probe set is empty")
    return out


def fingerprint(obj):
    """Short stable hash of a JSON-serialisable description."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def load_manifest(path):
    """Read partitions.json and re-check its invariants, naming the file on any problem."""
    from .io import read_json

    manifest = read_json(path)
    for key in ("dataset", "num_classes", "partitions", "probe"):
        if key not in manifest:
            raise DiltError(f"{path}: missing key '{key}'")
    groups = [p["classes"] for p in manifest["partitions"]]
    try:
        check_disjoint(groups, manifest["num_classes"], str(path))
    except DiltError as exc:
        raise DiltError(str(exc)) from None
    if not manifest["probe"]:
        raise DiltError(f"{path}: the probe set is empty")
    return manifest
