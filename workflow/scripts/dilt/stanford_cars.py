"""Stanford Cars in its official layout, read by torchvision's StanfordCars (download=False).

`data_root` holds `stanford_cars/` as torchvision expects it:

    stanford_cars/devkit/cars_meta.mat               class_names: the 196 names in class-id order
    stanford_cars/devkit/cars_train_annos.mat        annotations: fname, class (1..196), bbox
    stanford_cars/cars_test_annos_withlabels.mat     the same for the test images
    stanford_cars/cars_train/*.jpg, stanford_cars/cars_test/*.jpg

Official class id c (1..196) is label c - 1 and `classes[c - 1]` is its name, so contiguous
partitions follow the official ids (K=2: ids 1-98 and 99-196). Bounding boxes are not used:
networks see the whole image, as with the other datasets. Every check raises a one-line
DiltError naming the file.
"""

from pathlib import Path

from .io import DiltError

NUM_CLASSES = 196
FOLDER = "stanford_cars"
LAYOUT = ("stanford_cars/devkit/cars_meta.mat, devkit/cars_train_annos.mat, "
          "cars_test_annos_withlabels.mat, cars_train/ and cars_test/")


def _dataset_class():
    from torchvision.datasets import StanfordCars

    class Cars(StanfordCars):
        """torchvision's StanfordCars with ImageFolder's `samples` and `targets`."""

        @property
        def samples(self):
            return self._samples

        @property
        def targets(self):
            return [int(label) for _, label in self._samples]

    return Cars


def split_files(root, train):
    """(annotations .mat, image folder, class-names .mat) of a split, as torchvision reads them."""
    base = Path(root) / FOLDER
    if train:
        annos, images = base / "devkit" / "cars_train_annos.mat", base / "cars_train"
    else:
        annos, images = base / "cars_test_annos_withlabels.mat", base / "cars_test"
    return annos, images, base / "devkit" / "cars_meta.mat"


def open_cars(root, train, transform=None):
    """The training (`train`) or test split as a torchvision dataset with `.samples`
    [(path, label)], `.targets` (labels 0..195 = official class ids 1..196 minus one) and
    `.classes` (names in class-id order), after checking every file it needs."""
    annos, images, meta = split_files(root, train)
    for path in (meta, annos):
        if not path.is_file():
            raise DiltError(f"{path}: missing (expected Stanford Cars under {root}: {LAYOUT})")
    if not images.is_dir():
        raise DiltError(f"{images}: no such directory (expected Stanford Cars under {root}: "
                        f"{LAYOUT})")
    try:
        ds = _dataset_class()(str(root), split="train" if train else "test",
                              transform=transform, download=False)
    except Exception as exc:  # scipy raises several types for unreadable .mat files
        raise DiltError(f"{annos} or {meta}: not readable as Stanford Cars annotations "
                        f"({type(exc).__name__}: {exc})".replace("\n", " ")) from None
    if len(ds.classes) != NUM_CLASSES:
        raise DiltError(f"{meta}: lists {len(ds.classes)} class names, expected {NUM_CLASSES}")
    bad = sorted({t + 1 for t in ds.targets} - set(range(1, NUM_CLASSES + 1)))
    if bad:
        raise DiltError(f"{annos}: class ids {bad[:5]} outside 1..{NUM_CLASSES}")
    missing = [p for p, _ in ds.samples if not Path(p).is_file()]
    if missing:
        raise DiltError(f"{missing[0]}: missing ({len(missing)} of the {len(ds)} images listed "
                        f"in {annos.name} are missing)")
    try:
        ds.loader(ds.samples[0][0])
    except OSError as exc:
        raise DiltError(f"{ds.samples[0][0]}: not a readable image ({exc})") from None
    return ds
