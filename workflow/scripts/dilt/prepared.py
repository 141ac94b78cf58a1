"""Prepared datasets: every image decoded and resized once into memory-mapped uint8 shards.

A prepared split is a directory whose name carries the resolution R (split_dir), so another
resolution is another output and never a rerun of this one:

    plan.json                 written first: what the shards will hold (source fingerprint,
                              resolution, shard size, count)
    shard_00000.safetensors   `images` (n, R, R, 3) uint8 and `sizes` (n, 2) int32, the source
                              images' (height, width); n = shard_size except in the last shard
    index.json                written last: the plan plus labels, classes and the shard list

Images are stored whole, resized to R x R without keeping their aspect ratio; `sizes` keeps
it, and dilt.augment draws crops in source pixels and maps them onto the square, so crops
have the aspect ratios torchvision's RandomResizedCrop would give and no part of an image is
lost (a center-cropped square would lose the sides of every non-square image; padding to a
fixed canvas would store the padding). The cost: the longer side is stored with R pixels
instead of R x aspect. CIFAR images are stored as they are (32 x 32).

Each shard is written atomically (temp file + rename) by one of `workers` processes, so a
killed conversion resumes with the shards that are missing and writes the same bytes. The
shards are safetensors files (readable by any safetensors tool); reading memory-maps their
image arrays, so every job on a machine shares one copy in the page cache.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .io import DiltError, read_json, save_arrays, write_json

FORMAT = "dilt-prepared-1"
CIFAR = ("cifar10", "cifar100")


def split_dir(root, name, resolution, train):
    """Where the training or held-out split of dataset `name` prepared at `resolution` lives."""
    return Path(root) / f"{name}-{resolution}px" / ("train" if train else "test")


def shard_name(i):
    return f"shard_{i:05d}.safetensors"


def fingerprint(dataset):
    """SHA-256 of what the images are: for files, their paths relative to the dataset's
    common directory, byte sizes and labels (not the absolute root, so moving the dataset
    changes nothing); for in-memory arrays (CIFAR), the pixels and labels."""
    digest = hashlib.sha256()
    if hasattr(dataset, "samples"):
        paths = [p for p, _ in dataset.samples]
        common = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])
        for path, label in dataset.samples:
            digest.update(f"{os.path.relpath(path, common)}\t{os.path.getsize(path)}\t"
                          f"{int(label)}\n".encode())
    else:
        digest.update(np.ascontiguousarray(dataset.data).tobytes())
        digest.update(np.asarray(dataset.targets, np.int64).tobytes())
    return digest.hexdigest()


def resize_file(path, resolution):
    """One image file as a (resolution, resolution, 3) uint8 array and its source (h, w).

    JPEGs are decoded at the smallest DCT scale that still covers the square (PIL draft),
    then resized with Pillow's antialiased bilinear filter (torchvision's default filter).
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            size = (img.height, img.width)
            img.draft("RGB", (resolution, resolution))
            img = img.convert("RGB").resize((resolution, resolution), Image.Resampling.BILINEAR)
            return np.asarray(img), size
    except OSError as exc:
        raise DiltError(f"{path}: not a readable image ({exc})".replace("\n", " ")) from None


def _shard_arrays(job):
    """(images, sizes) of one shard. job: ("files", paths, R) or ("array", uint8 array)."""
    if job[0] == "array":
        images = np.ascontiguousarray(job[1])
        return images, np.tile(np.int32(images.shape[1:3]), (len(images), 1))
    pairs = [resize_file(p, job[2]) for p in job[1]]
    return (np.stack([a for a, _ in pairs]),
            np.asarray([s for _, s in pairs], dtype=np.int32).reshape(-1, 2))


def _write_shard(args):
    """Write one shard atomically; runs in a worker process."""
    path, job = args
    images, sizes = _shard_arrays(job)
    save_arrays(path, {"images": images, "sizes": sizes})
    return path


def _header(path):
    """The safetensors header of `path` and where its data starts, without reading the data."""
    with open(path, "rb") as fh:
        length = int.from_bytes(fh.read(8), "little")
        return json.loads(fh.read(length)), 8 + length


def _shard_ok(path, count, resolution):
    try:
        header, _ = _header(path)
        return (header["images"]["shape"] == [count, resolution, resolution, 3]
                and header["sizes"]["shape"] == [count, 2])
    except (OSError, ValueError, KeyError):
        return False


def prepare(name, dataset, out_dir, resolution, shard_size=1024, workers=1, log=print):
    """Convert a torchvision dataset (ImageFolder, Stanford Cars: `.samples` of image files;
    CIFAR: a `.data` uint8 array) into `out_dir`; returns the index.

    Shards already in `out_dir` for the same plan are kept (resume); a plan for other images,
    another resolution or shard size is replaced. `workers` processes decode and resize.
    """
    out = Path(out_dir)
    if name in CIFAR:
        resolution = dataset.data.shape[1]
    n = len(dataset.targets)
    plan = {"format": FORMAT, "dataset": name, "resolution": resolution,
            "shard_size": shard_size, "count": n, "fingerprint": fingerprint(dataset)}
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".shard_*.tmp"):  # temp files of a killed run
        stale.unlink()
    if (out / "plan.json").exists() and read_json(out / "plan.json") != plan:
        log(f"{out}: the source or the settings changed; starting over")
        (out / "index.json").unlink(missing_ok=True)
        for shard in out.glob("shard_*.safetensors"):
            shard.unlink()
    write_json(out / "plan.json", plan)
    counts = [min(shard_size, n - start) for start in range(0, n, shard_size)]
    todo = []
    for i, count in enumerate(counts):
        path = out / shard_name(i)
        if _shard_ok(path, count, resolution):
            continue
        rows = slice(i * shard_size, i * shard_size + count)
        job = (("array", dataset.data[rows]) if name in CIFAR else
               ("files", [p for p, _ in dataset.samples[rows]], resolution))
        todo.append((str(path), job))
    log(f"{out}: {len(counts) - len(todo)} of {len(counts)} shards present, writing {len(todo)}")
    if workers > 1 and len(todo) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for done, path in enumerate(pool.imap_unordered(_write_shard, todo), 1):
                log(f"  {Path(path).name} ({done}/{len(todo)})")
    else:
        for done, item in enumerate(todo, 1):
            log(f"  {Path(_write_shard(item)).name} ({done}/{len(todo)})")
    index = {**plan, "classes": list(dataset.classes),
             "labels": [int(t) for t in dataset.targets],
             "shards": [{"file": shard_name(i), "count": c} for i, c in enumerate(counts)]}
    write_json(out / "index.json", index)
    return index


class PreparedSplit:
    """A prepared split opened for reading: labels, source sizes and memory-mapped images."""

    def __init__(self, path):
        import torch

        self.path = Path(path)
        index = read_json(self.path / "index.json")
        if index.get("format") != FORMAT:
            raise DiltError(f"{self.path / 'index.json'}: not a {FORMAT} index; rerun the "
                            "prepare rule")
        self.dataset, self.resolution = index["dataset"], index["resolution"]
        self.shard_size, self.classes = index["shard_size"], index["classes"]
        self.labels = torch.as_tensor(index["labels"], dtype=torch.long)
        self.shards, sizes = [], []
        for shard in index["shards"]:
            images, shard_sizes = self._open(self.path / shard["file"], shard["count"])
            self.shards.append(images)
            sizes.append(shard_sizes)
        self.sizes = torch.as_tensor(np.concatenate(sizes), dtype=torch.long)

    def _open(self, path, count):
        if not _shard_ok(path, count, self.resolution):
            raise DiltError(f"{path}: missing or not a shard of {count} images at "
                            f"{self.resolution}px; rerun the prepare rule")
        header, start = _header(path)

        def array(key, dtype):
            begin, end = header[key]["data_offsets"]
            return np.memmap(path, dtype=dtype, mode="r", offset=start + begin,
                             shape=tuple(header[key]["shape"]))

        return array("images", np.uint8), np.array(array("sizes", np.int32))

    def __len__(self):
        return len(self.labels)

    def gather(self, index):
        """The images at `index` (a sequence of ints) as one (len, R, R, 3) uint8 array."""
        r = self.resolution
        out = np.empty((len(index), r, r, 3), dtype=np.uint8)
        for j, i in enumerate(index):
            out[j] = self.shards[i // self.shard_size][i % self.shard_size]
        return out


class PreparedFeed:
    """Batches of a prepared split (dilt.batches protocol), augmented on `device`.

    Training feeds (`train`): random-resized crop at `size` + flip (CIFAR: padded random
    crop + flip); held-out feeds: the central 87.5% of the shorter side resized to `size`
    (CIFAR: the image). `size` may change between epochs (progressive resizing). The crop
    and flip parameters come from the batches' generator (the global one without), drawn on
    the CPU, so a seed gives the same batches on every device up to resampling arithmetic.
    """

    eval_batch = 256

    def __init__(self, split, device="cpu", train=False, size=None, y=None, index=None):
        import torch

        from .datasets import info

        self.split, self.device, self.train = split, torch.device(device), train
        self.cifar = split.dataset in CIFAR
        self.size = split.resolution if self.cifar or size is None else size
        self.y = split.labels if y is None else y
        self.index = torch.arange(len(self.y)) if index is None else index
        self.stats = info(split.dataset).stats

    def __len__(self):
        return len(self.y)

    @property
    def labels(self):
        return self.y

    def _like(self, y, index):
        return PreparedFeed(self.split, self.device, self.train, self.size, y, index)

    def restrict(self, classes):
        from .partitions import select_classes

        keep, lookup = select_classes(self.y, classes)
        return self._like(lookup[self.y[keep]], self.index[keep])

    def subset(self, indices):
        import torch

        idx = torch.as_tensor(indices, dtype=torch.long)
        return self._like(self.y[idx], self.index[idx])

    def to(self, device):
        return PreparedFeed(self.split, device, self.train, self.size, self.y, self.index)

    def shard_batches(self, shards, seed):
        """(x, y) of each (batch number, positions) shard, augmented under a generator seeded
        by (seed, batch number, first position): the same on a rerun or a resume."""
        import torch

        from .seeding import job_seed

        for number, pos in shards:
            if not len(pos):
                yield None, torch.empty(0, dtype=torch.long, device=self.device)
                continue
            gen = torch.Generator().manual_seed(job_seed(seed, number, int(pos[0])))
            yield self._load(pos, gen)

    def _load(self, pos, generator):
        """(x, y) of the feed positions `pos`, augmented with `generator`."""
        import torch

        pin = self.device.type == "cuda"
        index = self.index[pos]
        images = torch.from_numpy(self.split.gather(index.tolist()))
        if pin:
            images = images.pin_memory()
        x = self._augment(images.to(self.device, non_blocking=pin), index, generator)
        return x, self.y[pos].to(self.device, non_blocking=pin)

    def batches(self, batch_size, generator=None):
        """One pass: shuffled by `generator`, in order without one."""
        import torch

        n = len(self.y)
        order = torch.randperm(n, generator=generator) if generator is not None else None
        for start in range(0, n, batch_size):
            pos = order[start:start + batch_size] if order is not None else torch.arange(
                start, min(start + batch_size, n))
            yield self._load(pos, generator)

    def _augment(self, images, index, generator):
        from . import augment

        n = len(images)
        if self.cifar:
            if self.train:
                offsets = augment.pad_offsets(n, generator)
                images = augment.pad_crop(images, offsets, augment.flips(n, generator))
        else:
            sizes = self.split.sizes[index]
            if self.train:
                boxes = augment.rrc_boxes(sizes, generator)
                flip = augment.flips(n, generator)
            else:
                boxes, flip = augment.center_boxes(sizes), None
            boxes = augment.to_stored(boxes, sizes, self.split.resolution)
            images = augment.crop_resize(images, boxes, self.size, flip)
        return augment.normalize(images, *self.stats)


def open_feed(path, y, device="cpu", train=False, size=None):
    """The feed of the prepared split at `path`, after checking that its labels are `y`
    (the labels the partitions rule cached)."""
    import torch

    split = PreparedSplit(path)
    if not torch.equal(split.labels, torch.as_tensor(y, dtype=torch.long)):
        raise DiltError(f"{path}: its images are not those the partitions rule listed; rerun "
                        "the prepare rule")
    return PreparedFeed(split, device, train, size)
