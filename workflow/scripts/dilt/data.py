"""Datasets as in-memory tensors: a registry of loaders and the cached split file."""

from dataclasses import dataclass

import numpy as np

from .io import DiltError


@dataclass
class Split:
    """Arrays of one dataset split: x (N, C, H, W) or (N, C, L) float32, y (N,) int64."""

    x: np.ndarray
    y: np.ndarray


@dataclass
class Dataset:
    name: str
    num_classes: int
    train: Split
    test: Split


def _standardise(train, test):
    mean, std = train.mean(), train.std()
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def _stratified_split(x, y, test_fraction, seed):
    from sklearn.model_selection import train_test_split

    xtr, xte, ytr, yte = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed
    )
    xtr, xte = _standardise(xtr, xte)
    return Split(xtr, ytr.astype(np.int64)), Split(xte, yte.astype(np.int64))


def load_digits(cfg):
    """scikit-learn's embedded 8x8 digits (1797 images, 10 classes), seeded stratified split."""
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = bunch.images.reshape(-1, 1, 8, 8).astype(np.float32) / 16.0
    train, test = _stratified_split(x, bunch.target, cfg["test_fraction"], cfg["split_seed"])
    return Dataset("digits", 10, train, test)


LOADERS = {"digits": load_digits}


def load(cfg):
    """Load the dataset named by cfg["name"] (config key dataset.name)."""
    try:
        loader = LOADERS[cfg["name"]]
    except KeyError:
        raise DiltError(f"dataset.name: unknown dataset '{cfg['name']}'") from None
    return loader(cfg)


def save_split(path, dataset):
    """Cache the split as safetensors so training jobs skip the loader's imports."""
    from .io import save_arrays

    save_arrays(path, {
        "x_train": dataset.train.x, "y_train": dataset.train.y,
        "x_test": dataset.test.x, "y_test": dataset.test.y,
    })


def load_split(path):
    """Load the cached split as torch tensors: (x_train, y_train, x_test, y_test)."""
    import torch

    from .io import load_arrays

    arrays = load_arrays(path)
    missing = {"x_train", "y_train", "x_test", "y_test"} - arrays.keys()
    if missing:
        raise DiltError(f"{path}: missing arrays {sorted(missing)}")
    return tuple(torch.from_numpy(arrays[k]) for k in ("x_train", "y_train", "x_test", "y_test"))
