"""Dataset registry: embedded datasets as in-memory arrays, disk datasets as labels + a source.

Every loader returns a Dataset. Embedded datasets (digits, mnist1d) carry their arrays, which
the partitions rule caches in data.safetensors. Disk datasets (CIFAR, ImageNet, Stanford
Cars) carry only their labels there; training jobs read the images through dilt.vision.
"""

from dataclasses import dataclass, field

import numpy as np

from .io import DiltError
from .settings import DISK_DATASETS, NUM_CLASSES


@dataclass
class Split:
    """One split: labels y (N,) int64 and, for embedded datasets, x (N, C, H, W) or (N, C, L)."""

    y: np.ndarray
    x: np.ndarray | None = None


@dataclass
class Dataset:
    name: str
    num_classes: int
    train: Split
    test: Split
    input_shape: tuple
    source: dict = field(default_factory=lambda: {"storage": "memory"})


def _standardise(train, test):
    mean, std = train.mean(), train.std()
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def _in_memory(name, xtr, ytr, xte, yte):
    xtr, xte = _standardise(xtr, xte)
    return Dataset(name, NUM_CLASSES[name], Split(ytr.astype(np.int64), xtr),
                   Split(yte.astype(np.int64), xte), tuple(xtr.shape[1:]))


def load_digits(cfg):
    """scikit-learn's embedded 8x8 digits (1797 images, 10 classes), seeded stratified split."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    x = bunch.images.reshape(-1, 1, 8, 8).astype(np.float32) / 16.0
    xtr, xte, ytr, yte = train_test_split(x, bunch.target, test_size=cfg["test_fraction"],
                                          stratify=bunch.target, random_state=cfg["split_seed"])
    return _in_memory("digits", xtr, ytr, xte, yte)


def load_mnist1d(cfg):
    """MNIST-1D generated offline by mnist1d's make_dataset with the package's default
    arguments (5000 signals of length 40, seed 42, 4000 train / 1000 test); never downloaded.
    dataset.test_fraction and split_seed do not apply."""
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    xtr, xte = (data[k][:, None, :].astype(np.float32) for k in ("x", "x_test"))
    return _in_memory("mnist1d", xtr, data["y"], xte, data["y_test"])


def load_disk(cfg):
    """Labels and input shape of a disk dataset; checks its directory (see dilt.vision)."""
    from . import vision

    name = cfg["name"]
    train, test = vision.open_splits(name, cfg["data_root"], cfg["image_size"])
    source = {"storage": "disk", "data_root": cfg["data_root"],
              "image_size": vision.image_size(name, cfg["image_size"])}
    return Dataset(name, NUM_CLASSES[name], Split(np.asarray(train.targets, np.int64)),
                   Split(np.asarray(test.targets, np.int64)),
                   (3, source["image_size"], source["image_size"]), source)


LOADERS = {"digits": load_digits, "mnist1d": load_mnist1d,
           **{name: load_disk for name in DISK_DATASETS}}


def load(cfg):
    """Load the dataset named by cfg["name"] (config key dataset.name)."""
    try:
        loader = LOADERS[cfg["name"]]
    except KeyError:
        raise DiltError(f"dataset.name: unknown dataset '{cfg['name']}'") from None
    return loader(cfg)


def save_split(path, dataset):
    """Cache the labels (and the arrays of embedded datasets) as safetensors."""
    from .io import save_arrays

    arrays = {"y_train": dataset.train.y, "y_test": dataset.test.y}
    if dataset.train.x is not None:
        arrays.update(x_train=dataset.train.x, x_test=dataset.test.x)
    save_arrays(path, arrays)


def load_split(path, with_images=True):
    """The cached split as torch tensors: (x_train, y_train, x_test, y_test); x is None when
    `with_images` is false (disk datasets keep only labels in the cache)."""
    import torch

    from .io import load_arrays

    arrays = load_arrays(path)
    wanted = ["x_train", "y_train", "x_test", "y_test"]
    if not with_images:
        wanted = wanted[1::2]
    missing = set(wanted) - arrays.keys()
    if missing:
        raise DiltError(f"{path}: missing arrays {sorted(missing)}")
    tensors = {k: torch.from_numpy(arrays[k]) for k in wanted}
    return tuple(tensors.get(k) for k in ("x_train", "y_train", "x_test", "y_test"))
