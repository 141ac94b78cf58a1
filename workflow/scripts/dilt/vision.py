"""Disk datasets through torchvision: CIFAR python batches and ImageFolder class folders.

CIFAR-10/100 are read from the "python version" pickle batches by torchvision's CIFAR10 and
CIFAR100 datasets (download=False). Those batches are pickles: that is the format the
dataset is distributed in, and torchvision is the only code here that unpickles them.
ImageNet and Stanford Cars are read as class folders (torchvision ImageFolder). Every check
of a dataset directory raises a one-line DiltError naming the path and what was expected.
"""

from pathlib import Path

from .io import DiltError
from .settings import NUM_CLASSES

CIFAR_DIRS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
CIFAR_FILES = {
    "cifar10": ("data_batch_1..5, test_batch and batches.meta",
                [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]),
    "cifar100": ("train, test and meta", ["train", "test", "meta"]),
}
# Held-out split directory of each class-folder dataset, in order of preference.
HELD_OUT = {"imagenet": ("val", "test"), "cars": ("test", "val")}
STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
DEFAULT_SIZE = 224


def image_size(name, configured):
    """Side of the square network input: 32 for CIFAR, dataset.image_size (default 224) else."""
    if name in CIFAR_DIRS:
        return 32
    return configured or DEFAULT_SIZE


def transform(name, train, size):
    """Standard augmentation for training, deterministic preprocessing for evaluation.

    CIFAR: random 32x32 crop of the 4-pixel zero-padded image + horizontal flip (train).
    Class folders: RandomResizedCrop(size) + flip (train); resize to size/0.875 and
    center-crop `size` (evaluation). Then scaling to [0, 1] and per-channel normalisation.
    """
    import torch
    from torchvision.transforms import v2

    mean, std = STATS.get(name, STATS["imagenet"])
    if name in CIFAR_DIRS:
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


def _open_cifar(name, root, train, tf):
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
    if len(ds.classes) != NUM_CLASSES[name]:
        raise DiltError(f"{folder}: metadata lists {len(ds.classes)} classes, expected "
                        f"{NUM_CLASSES[name]}")
    return ds


def _split_dirs(name, root):
    root = Path(root)
    expected = (f"{name} as class folders: {root}/train/<class>/<images> and "
                f"{root}/{HELD_OUT[name][0]}/<class>/<images>")
    if not root.is_dir():
        raise DiltError(f"{root}: no such directory (expected {expected})")
    held = [root / d for d in HELD_OUT[name] if (root / d).is_dir()]
    if not (root / "train").is_dir() or not held:
        held_out = " or ".join(f"{d}/" for d in HELD_OUT[name])
        raise DiltError(f"{root}: needs train/ and {held_out} (expected {expected})")
    return root / "train", held[0]


def _open_folder(name, folder, tf):
    from torchvision.datasets import ImageFolder

    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if len(classes) != NUM_CLASSES[name]:
        raise DiltError(f"{folder}: {len(classes)} class folders, expected "
                        f"{NUM_CLASSES[name]} for {name}")
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


def open_split(name, root, train, size=None, transforms=False):
    """The training (`train`) or held-out torchvision dataset of a disk dataset, after checking
    the directory layout; with `transforms`, the split's transform is attached."""
    if root is None:
        raise DiltError(f"dataset.data_root: required for {name}")
    tf = transform(name, train, image_size(name, size)) if transforms else None
    if name in CIFAR_DIRS:
        ds, where = _open_cifar(name, root, train, tf), Path(root) / CIFAR_DIRS[name]
    else:
        where = _split_dirs(name, root)[0 if train else 1]
        ds = _open_folder(name, where, tf)
    labels, expected = set(ds.targets), set(range(NUM_CLASSES[name]))
    if labels != expected:
        split = "training" if train else "held-out"
        raise DiltError(f"{where}: the {split} split has labels outside 0..{len(expected) - 1} "
                        f"or no images of classes {sorted(labels ^ expected)[:5]}")
    return ds


def open_splits(name, root, size=None):
    """(training, held-out) datasets without transforms: labels and layout checks."""
    train, test = (open_split(name, root, t, size) for t in (True, False))
    if train.classes != test.classes:
        raise DiltError(f"{root}: the held-out split's classes differ from the training split's")
    return train, test
