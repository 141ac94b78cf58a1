"""Class partitions (contiguous, seeded random, explicit, named) and the held-out probe set."""

import hashlib
import json

import numpy as np

from .io import DiltError

NAMED_SCHEMES = ("animals_vehicles", "superclass")

# CIFAR-10 label ids: 0 airplane, 1 automobile, 8 ship, 9 truck are vehicles; 2-7 animals.
ANIMALS_VEHICLES = [[2, 3, 4, 5, 6, 7], [0, 1, 8, 9]]
# CIFAR-100 superclass (coarse label) of each fine label 0..99, as in the dataset's batches.
CIFAR100_COARSE = [
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
]


def named_groups(scheme, dataset, k):
    """Class groups of a named scheme: 'animals_vehicles' (CIFAR-10, k=2: animals, vehicles)
    or 'superclass' (CIFAR-100: the 20 superclasses in k contiguous runs of coarse ids)."""
    if scheme == "animals_vehicles":
        if dataset != "cifar10" or k != 2:
            raise DiltError("partitions.scheme: animals_vehicles needs dataset.name cifar10 "
                            "and partitions.k 2")
        return ANIMALS_VEHICLES
    if dataset != "cifar100" or k > 20:
        raise DiltError("partitions.scheme: superclass needs dataset.name cifar100 and "
                        "partitions.k <= 20")
    coarse = np.asarray(CIFAR100_COARSE)
    return [np.flatnonzero(np.isin(coarse, runs)).tolist()
            for runs in np.array_split(np.arange(20), k)]


def make_partitions(num_classes, k, scheme="contiguous", classes=None, seed=0, dataset=None):
    """Split class ids into k disjoint groups; returns [{"name": "p0", "classes": [...]}, ...].

    Schemes: contiguous blocks, seeded random, explicit `classes`, or a named scheme of
    `dataset` (see named_groups).
    """
    if scheme in NAMED_SCHEMES:
        groups = named_groups(scheme, dataset, k)
    elif scheme == "explicit":
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


def classes_of(manifest, part):
    """Class ids of a partition name ('full' means all classes -> None)."""
    if part == "full":
        return None
    for p in manifest["partitions"]:
        if p["name"] == part:
            return p["classes"]
    raise DiltError(f"partitions.json: no partition named '{part}'")


def select_classes(labels, classes):
    """Which entries of the tensor `labels` are in `classes`, and a lookup tensor mapping
    them to 0..k-1 (a feed's restrict)."""
    import torch

    classes = torch.as_tensor(classes, dtype=torch.long)
    lookup = torch.full((int(max(labels.max(), classes.max())) + 1,), -1, dtype=torch.long)
    lookup[classes] = torch.arange(len(classes))
    return torch.isin(labels, classes), lookup


def load_manifest(path):
    """Read partitions.json and re-check its invariants, naming the file on any problem."""
    from .io import read_json

    manifest = read_json(path)
    for key in ("dataset", "num_classes", "input_shape", "source", "partitions", "probe"):
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
