"""Reading disk datasets through torchvision: CIFAR python batches and class folders.

CIFAR-10/100 are read from the "python version" pickle batches by torchvision's CIFAR10 and
CIFAR100 datasets (download=False). Those batches are pickles: that is the format the
dataset is distributed in, and torchvision is the only code here that unpickles them.
ImageNet is read as class folders (torchvision ImageFolder), Stanford Cars in its official
layout by torchvision's StanfordCars (dilt.stanford_cars). Every check
of a dataset directory raises a one-line DiltError naming the path and what was expected.
Functions take the dataset's registry record (dilt.datasets.DatasetInfo) for its facts.
"""

from pathlib import Path

from . import stanford_cars
from .io import DiltError

CIFAR_DIRS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CIFAR_FILES = {
    "cifar10": ("data_batch_1..5, test_batch and batches.meta",
                [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]),
    "cifar100": ("train, test and meta", ["train", "test", "meta"]),
}
def transform(record, train, size):
    """Standard augmentation for training, deterministic preprocessing for evaluation.

    CIFAR: random 32x32 crop of the 4-pixel zero-padded image + horizontal flip (train).
    Class folders: RandomResizedCrop(size) + flip (train); resize to size/0.875 and
    center-crop `size` (evaluation). Then scaling to [0, 1] and per-channel normalisation.
    """
    import torch
    from torchvision.transforms import v2

    mean, std = record.stats
    if record.name in CIFAR_DIRS:
        geometry = [v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()] if train else []
    elif train:
        geometry = [v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()]
    else:
        geometry = [v2.Resize(round(size / 0.875), antialias=True), v2.CenterCrop(size)]
    return v2.Compose([v2.ToImage(), *geometry, v2.ToDtype(torch.float32, scale=True),
                       v2.Normalize(mean, std), v2.ToPureTensor()])


def _cifar_class(name):
    """torchvision's CIFAR dataset class with checksums disabled: subsets and re-packed copies
    have other checksums, so the structural checks in _open_cifar apply instead."""
    from torchvision import datasets

    base = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    return type(base.__name__, (base,), {
        "train_list": [[f, None] for f, _ in base.train_list],
        "test_list": [[f, None] for f, _ in base.test_list],
        "meta": {**base.meta, "md5": None},
    })


def _open_cifar(record, root, train, tf):
    name = record.name
    folder = Path(root) / CIFAR_DIRS[name]
    what, files = CIFAR_FILES[name]
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise DiltError(f"{folder}: missing {', '.join(missing)} (expected the CIFAR "
                        f"python version there: {what})")
    try:
        ds = _cifar_class(name)(str(root), train=train, transform=tf, download=False)
    except Exception as exc:  # torchvision unpickles: errors of any type mean a bad file
        raise DiltError(f"{folder}: not readable as {name} python batches "
                        f"({type(exc).__name__}: {exc})") from None
    if len(ds.classes) != record.num_classes:
        raise DiltError(f"{folder}: metadata lists {len(ds.classes)} classes, expected "
                        f"{record.num_classes}")
    return ds


def _split_dirs(record, root):
    root = Path(root)
    expected = (f"{record.name} as class folders: {root}/train/<class>/<images> and "
                f"{root}/{record.held_out[0]}/<class>/<images>")
    if not root.is_dir():
        raise DiltError(f"{root}: no such directory (expected {expected})")
    held = [root / d for d in record.held_out if (root / d).is_dir()]
    if not (root / "train").is_dir() or not held:
        held_out = " or ".join(f"{d}/" for d in record.held_out)
        raise DiltError(f"{root}: needs train/ and {held_out} (expected {expected})")
    return root / "train", held[0]


def _open_folder(record, folder, tf):
    from torchvision.datasets import ImageFolder

    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if len(classes) != record.num_classes:
        raise DiltError(f"{folder}: {len(classes)} class folders, expected "
                        f"{record.num_classes} for {record.name}")
    try:
        ds = ImageFolder(str(folder), transform=tf)
    except (FileNotFoundError, OSError) as exc:
        raise DiltError(f"{folder}: {exc}".replace("\n", " ")) from None
    path = ds.samples[0][0]
    try:
        ds.loader(path)
    except OSError as exc:
        raise DiltError(f"{path}: not a readable image ({exc})") from None
    return ds


def open_split(record, root, train, side, transforms=False, augment=None):
    """The training (`train`) or held-out torchvision dataset of a disk dataset (its registry
    record), after checking the directory layout; with `transforms`, the transform for
    network inputs of side `side` is attached: augmenting (default: for the training split)
    or deterministic."""
    if root is None:
        raise DiltError(f"dataset.data_root: required for {record.name}")
    tf = transform(record, train if augment is None else augment, side) if transforms else None
    if record.name in CIFAR_DIRS:
        ds, where = _open_cifar(record, root, train, tf), Path(root) / CIFAR_DIRS[record.name]
    elif record.name == "cars":
        ds = stanford_cars.open_cars(root, train, tf)
        where = stanford_cars.split_files(root, train)[0]
    else:
        where = _split_dirs(record, root)[0 if train else 1]
        ds = _open_folder(record, where, tf)
    labels, expected = set(ds.targets), set(range(record.num_classes))
    if labels != expected:
        split = "training" if train else "held-out"
        raise DiltError(f"{where}: the {split} split has labels outside 0..{len(expected) - 1} "
                        f"or no images of classes {sorted(labels ^ expected)[:5]}")
    return ds


def open_splits(record, root, side):
    """(training, held-out) datasets without transforms: labels and layout checks."""
    train, test = (open_split(record, root, t, side) for t in (True, False))
    if train.classes != test.classes:
        raise DiltError(f"{root}: the held-out split's classes differ from the training split's")
    return train, test
