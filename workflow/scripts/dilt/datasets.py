"""Dataset registry: one record per dataset (classes, storage, loader, normalisation, held-out
split, transfer role), and the cached split of a study.

Embedded datasets (digits, MNIST-1D) are arrays: the partitions rule caches them in
data.safetensors and jobs keep them in memory. Disk datasets (CIFAR, ImageNet, Stanford
Cars) cache only their labels there; jobs read the images through dilt.disk_datasets.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .io import DiltError


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


@dataclass(frozen=True)
class DatasetInfo:
    """What the study needs to know about a dataset.

    storage: "memory" or "disk"; load(dataset config) -> Dataset; held_out: where its test
    split comes from (class-folder datasets: the directories tried, in order); stats:
    per-channel (mean, std) of disk images; input_side: fixed network input side (None:
    dataset.image_size, default 224); transfer(in_shape, samples, seed) -> Dataset when the
    dataset can be an experiment-4 target; shape: the input shape of an embedded dataset.
    """

    name: str
    num_classes: int
    storage: str
    load: Callable
    held_out: tuple | str
    stats: tuple | None = None
    input_side: int | None = None
    transfer: Callable | None = None
    shape: tuple | None = None


def _standardise(train, test):
    mean, std = train.mean(), train.std()
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def _in_memory(name, xtr, ytr, xte, yte):
    xtr, xte = _standardise(xtr, xte)
    return Dataset(name, REGISTRY[name].num_classes, Split(ytr.astype(np.int64), xtr),
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


def mnist1d_arrays(samples=None, length=None, seed=None):
    """MNIST-1D (Greydanus 2020) generated offline by the mnist1d package's make_dataset:
    10 classes of 1-D waveform templates, randomly padded, scaled, translated, sheared and
    noised, with the package's 80/20 split. Unset arguments keep the package's defaults
    (5000 signals of length 40, seed 42); never downloaded. Returns its dict of arrays."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    for key, value in (("num_samples", samples), ("final_seq_length", length), ("seed", seed)):
        if value is not None:
            setattr(args, key, value)
    return make_dataset(args)


def digits_target(in_shape, samples, seed):
    """scikit-learn's digits as a transfer target: each 8x8 image read row by row as a
    64-point signal, linearly resampled to prod(in_shape) points and laid out in the source's
    input shape; a seeded stratified sample of `samples` images (at most the 1797 there
    are), split 80/20."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    if samples > len(bunch.target):
        raise DiltError(f"transfer.samples: {samples} but digits has {len(bunch.target)} "
                        "images")
    x = bunch.images.reshape(len(bunch.target), -1).astype(np.float64) / 16.0
    points = math.prod(in_shape)
    grid = np.linspace(0, x.shape[1] - 1, points)
    x = np.stack([np.interp(grid, np.arange(x.shape[1]), row) for row in x])
    x = x.astype(np.float32).reshape(-1, *in_shape)
    y = bunch.target.astype(np.int64)
    if samples < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=samples, stratify=y, random_state=seed)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    return Dataset("digits", 10, Split(ytr, xtr), Split(yte, xte), tuple(in_shape))


def load_mnist1d(cfg):
    """MNIST-1D with the package's defaults as a (1, 40) signal dataset (4000 train / 1000
    test); dataset.test_fraction and split_seed do not apply."""
    data = mnist1d_arrays()
    xtr, xte = (data[k][:, None, :].astype(np.float32) for k in ("x", "x_test"))
    return _in_memory("mnist1d", xtr, data["y"], xte, data["y_test"])


def mnist1d_target(in_shape, samples, seed):
    """MNIST-1D as a transfer target: each signal sampled at prod(in_shape) points and laid
    out row by row in the source's input shape."""
    data = mnist1d_arrays(samples, math.prod(in_shape), seed)

    def split(x, y):
        return Split(np.asarray(y, np.int64), np.asarray(x, np.float32).reshape(-1, *in_shape))

    return Dataset("mnist1d", 10, split(data["x"], data["y"]),
                   split(data["x_test"], data["y_test"]), in_shape)


def load_disk(cfg):
    """Labels and input shape of a disk dataset; checks its directory (dilt.disk_datasets).
    The source records what the images are, not where: the data root is no part of it."""
    from . import disk_datasets

    record = REGISTRY[cfg["name"]]
    side = input_side(record, cfg["image_size"])
    train, test = disk_datasets.open_splits(record, cfg["data_root"], side)
    source = {"storage": "disk", "image_size": side}
    return Dataset(record.name, record.num_classes, Split(np.asarray(train.targets, np.int64)),
                   Split(np.asarray(test.targets, np.int64)), (3, side, side), source)


IMAGENET_STATS = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
REGISTRY = {d.name: d for d in [
    DatasetInfo("digits", 10, "memory", load_digits, "stratified dataset.test_fraction",
                transfer=digits_target,
                shape=(1, 8, 8)),
    DatasetInfo("mnist1d", 10, "memory", load_mnist1d, "the package's test split",
                transfer=mnist1d_target, shape=(1, 40)),
    DatasetInfo("cifar10", 10, "disk", load_disk, "test_batch",
                ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)), 32),
    DatasetInfo("cifar100", 100, "disk", load_disk, "test",
                ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)), 32),
    DatasetInfo("imagenet", 1000, "disk", load_disk, ("val", "test"), IMAGENET_STATS),
    DatasetInfo("cars", 196, "disk", load_disk, "cars_test_annos_withlabels.mat",
                IMAGENET_STATS),
]}
DEFAULT_SIDE = 224


def info(name, key="dataset.name"):
    """The registry record of dataset `name`; DiltError naming config `key` if unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise DiltError(f"{key}: unknown dataset '{name}' (known: {', '.join(REGISTRY)})") from None


def input_side(record, configured):
    """Side of the square network input of a disk dataset: fixed (CIFAR) or configured."""
    return record.input_side or configured or DEFAULT_SIDE


def input_shape(record, cfg):
    """The shape of one network input of the dataset, without reading it (section dataset)."""
    if record.storage == "disk":
        side = input_side(record, cfg["image_size"])
        return (3, side, side)
    return record.shape


def load(cfg):
    """Load the dataset configured in section `dataset`."""
    return info(cfg["name"]).load(cfg)


def load_target(name, in_shape, samples, seed):
    """The experiment-4 target named by transfer.target, shaped like the source inputs."""
    record = info(name, "transfer.target")
    if record.transfer is None:
        raise DiltError(f"transfer.target: {name} cannot be a transfer target")
    dataset = record.transfer(tuple(in_shape), samples, seed)
    if min(np.bincount(dataset.test.y, minlength=dataset.num_classes)) == 0:
        raise DiltError(f"transfer.samples: {samples} leaves a {name} class without test "
                        "examples")
    return dataset


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
