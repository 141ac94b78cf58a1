"""Tiny datasets written in the real on-disk formats.

CIFAR: the "python version" directories, laid out as the originals are: data_batch_1..5,
test_batch and batches.meta (CIFAR-10) or train, test and meta (CIFAR-100), each a
protocol-2 pickle of a dict with the original keys, `data` a (N, 3072) uint8 array of
row-major 32x32 red, green and blue planes. Writing them needs pickle (the format is a
pickle); the pipeline never unpickles anything itself (torchvision reads these files).
Class folders: `train/<class>/*.png` and a held-out directory, as ImageFolder expects.
Images of class c are noise around a class-specific colour, so classes are learnable.
"""

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from dilt.partitions import CIFAR100_COARSE


def _images(labels, size, rng):
    colours = np.random.default_rng(1).integers(0, 256, (max(labels) + 1, 3))
    noise = rng.normal(0, 40, (len(labels), size, size, 3))
    return np.clip(colours[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)


def _labels(num_classes, per_class, rng):
    return rng.permutation(np.repeat(np.arange(num_classes), per_class)).tolist()


def _dump(path, obj):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def _cifar_batch(labels, label_key, batch_label, rng, extra=None):
    hwc = _images(labels, 32, rng)
    return {"batch_label": batch_label, label_key: labels,
            "data": hwc.transpose(0, 3, 1, 2).reshape(len(labels), 3072),
            "filenames": [f"img_{i:05d}.png" for i in range(len(labels))], **(extra or {})}


def write_cifar10(root, train_per_class=10, test_per_class=4, seed=0):
    """root/cifar-10-batches-py with five training batches, a test batch and the metadata.
    Returns the images and labels written: {"train": (hwc, labels), "test": (...)}."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    train = _labels(10, train_per_class, rng)
    chunks = np.array_split(np.arange(len(train)), 5)
    written = {"train": ([], []), "test": ([], [])}
    for i, idx in enumerate(chunks, start=1):
        batch = _cifar_batch([train[j] for j in idx], "labels",
                             f"training batch {i} of 5", rng)
        _dump(folder / f"data_batch_{i}", batch)
        written["train"][0].append(batch["data"])
        written["train"][1].extend(batch["labels"])
    test = _cifar_batch(_labels(10, test_per_class, rng), "labels", "testing batch 1 of 1", rng)
    _dump(folder / "test_batch", test)
    written["test"] = ([test["data"]], test["labels"])
    _dump(folder / "batches.meta", {
        "num_cases_per_batch": len(chunks[0]), "num_vis": 3072,
        "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                        "horse", "ship", "truck"]})
    return {k: (np.concatenate(d).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y)
            for k, (d, y) in written.items()}


def write_cifar100(root, train_per_class=2, test_per_class=1, seed=0):
    """root/cifar-100-python with train, test and meta (fine and coarse labels)."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, per_class in (("train", train_per_class), ("test", test_per_class)):
        fine = _labels(100, per_class, rng)
        coarse = [CIFAR100_COARSE[c] for c in fine]
        _dump(folder / name, _cifar_batch(fine, "fine_labels", f"{name}ing batch 1 of 1", rng,
                                          {"coarse_labels": coarse}))
    _dump(folder / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)],
                            "coarse_label_names": [f"coarse{i}" for i in range(20)]})


def write_class_folders(root, num_classes, held_out="val", per_class=(2, 1), size=20,
                        seed=0):
    """root/train/<class>/*.png and root/<held_out>/<class>/*.png; classes c000, c001, ..."""
    rng = np.random.default_rng(seed)
    for split, n in zip(("train", held_out), per_class, strict=True):
        labels = np.repeat(np.arange(num_classes), n).tolist()
        for i, (label, img) in enumerate(zip(labels, _images(labels, size, rng), strict=True)):
            folder = Path(root) / split / f"c{label:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"{i:05d}.png")


def write_stanford_cars(root, num_classes=196, per_class=(1, 1), size=(24, 16), seed=0):
    """root/stanford_cars in the official layout torchvision's StanfordCars reads: devkit/
    cars_meta.mat (class_names), devkit/cars_train_annos.mat and
    cars_test_annos_withlabels.mat (annotations: bbox_x1, bbox_y1, bbox_x2, bbox_y2, class,
    fname), cars_train/*.jpg and cars_test/*.jpg. Class names sort in reverse id order and
    images are listed in shuffled class order, so labels can only come from the annotations.
    Returns {"train": [class ids of the listed images], "test": [...]} (ids 1..num_classes)."""
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    base = Path(root) / "stanford_cars"
    (base / "devkit").mkdir(parents=True)
    names = np.array([f"Make {num_classes - c:03d} Sedan 2012" for c in range(num_classes)],
                     dtype=object)
    savemat(base / "devkit" / "cars_meta.mat", {"class_names": names[None, :]})
    fields = ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname"]
    listed = {}
    for split, n, annos in zip(("train", "test"), per_class, (
            base / "devkit" / "cars_train_annos.mat", base / "cars_test_annos_withlabels.mat"),
            strict=True):
        labels = _labels(num_classes, n, rng)
        folder = base / f"cars_{split}"
        folder.mkdir()
        records = np.zeros((1, len(labels)), dtype=[(f, object) for f in fields])
        images = _images(labels, max(size), rng)[:, :size[1], :size[0]]
        for i, (label, img) in enumerate(zip(labels, images, strict=True)):
            fname = f"{i + 1:05d}.jpg"
            Image.fromarray(img).save(folder / fname, quality=95)
            records[0, i] = (1, 1, size[0], size[1], np.uint8(label + 1), fname)
        savemat(annos, {"annotations": records})
        listed[split] = [c + 1 for c in labels]
    return listed
