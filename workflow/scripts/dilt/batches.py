"""Batches of one split on the job's device: in-memory tensors, or a DataLoader over files.

Embedded datasets stay tensors on the device and are batched by indexing a seeded
permutation (no per-sample work). Disk datasets go through a DataLoader with worker
processes (augmentation runs there) and pinned memory on CUDA. Every feed (these two and
dilt.prepared.PreparedFeed) has the same methods, so training, evaluation and representation
code does not branch on the kind: len, labels, restrict, subset, to(device), batches (one
pass, for evaluation) and shard_batches (the training order of dilt.order).
"""

import torch

from .io import DiltError
from .partitions import select_classes
from .seeding import job_seed


class TensorFeed:
    """A split held as tensors x, y on `device`."""

    eval_batch = 2048

    def __init__(self, x, y, device="cpu"):
        self.device = torch.device(device)
        self.x, self.y = x.to(self.device), y.to(self.device)

    def __len__(self):
        return len(self.y)

    @property
    def labels(self):
        """Labels of the feed's examples, in order, on the CPU."""
        return self.y.cpu()

    def restrict(self, classes):
        """The examples of `classes`, relabelled 0..len(classes)-1."""
        keep, lookup = select_classes(self.labels, classes)
        keep = keep.to(self.device)
        return TensorFeed(self.x[keep], lookup.to(self.device)[self.y[keep]], self.device)

    def subset(self, indices):
        idx = torch.as_tensor(indices, dtype=torch.long, device=self.device)
        return TensorFeed(self.x[idx], self.y[idx], self.device)

    def to(self, device):
        return TensorFeed(self.x, self.y, device)

    def shard_batches(self, shards, seed):
        """(x, y) of each (batch number, positions) shard; `seed` is unused (no augmentation)."""
        for _, idx in shards:
            idx = idx.to(self.device)
            yield self.x[idx], self.y[idx]

    def batches(self, batch_size, generator=None):
        """One pass: shuffled by `generator` (a CPU torch.Generator), in order without one."""
        n = len(self.y)
        if generator is None:
            for start in range(0, n, batch_size):
                yield self.x[start:start + batch_size], self.y[start:start + batch_size]
            return
        order = torch.randperm(n, generator=generator).to(self.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield self.x[idx], self.y[idx]


class _Augmented:
    """Map-style dataset: feed position i -> (image i, i), augmented under the seed (seed, i),
    so augmentation depends neither on the worker count nor on where a run resumed."""

    def __init__(self, dataset, index, seed):
        self.dataset, self.index, self.seed = dataset, index, seed

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        with torch.random.fork_rng(devices=[]):  # the caller's random state stays untouched
            torch.manual_seed(job_seed(self.seed, i))
            return self.dataset[self.index[i]][0], i


class _Picked:
    """Map-style dataset of the images at `index` of `dataset`, each with its position."""

    def __init__(self, dataset, index):
        self.dataset, self.index = dataset, index

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        return self.dataset[self.index[i]][0], i


class LoaderFeed:
    """Images of a torchvision dataset read by a DataLoader with `workers` processes.

    `index` selects the dataset's examples, `y` holds their (possibly relabelled) labels.
    """

    eval_batch = 256

    def __init__(self, dataset, y, device="cpu", workers=0, index=None):
        self.dataset, self.y = dataset, y
        self.device, self.workers = torch.device(device), workers
        self.index = torch.arange(len(y)) if index is None else index

    def __len__(self):
        return len(self.y)

    @property
    def labels(self):
        return self.y

    def restrict(self, classes):
        keep, lookup = select_classes(self.y, classes)
        return LoaderFeed(self.dataset, lookup[self.y[keep]], self.device, self.workers,
                          self.index[keep])

    def subset(self, indices):
        idx = torch.as_tensor(indices, dtype=torch.long)
        return LoaderFeed(self.dataset, self.y[idx], self.device, self.workers, self.index[idx])

    def to(self, device):
        return LoaderFeed(self.dataset, self.y, device, self.workers, self.index)

    def shard_batches(self, shards, seed):
        """(x, y) of each (batch number, positions) shard through a DataLoader; an empty shard
        gives (None, no labels)."""
        from torch.utils.data import DataLoader

        shards = [s.tolist() for _, s in shards]
        pin = self.device.type == "cuda"
        loader = DataLoader(_Augmented(self.dataset, self.index.tolist(), seed),
                            batch_sampler=[s for s in shards if s], num_workers=self.workers,
                            pin_memory=pin, prefetch_factor=4 if self.workers else None,
                            generator=torch.Generator())
        loaded = iter(loader)
        for shard in shards:
            if not shard:
                yield None, torch.empty(0, dtype=torch.long, device=self.device)
                continue
            x, pos = next(loaded)
            yield (x.to(self.device, non_blocking=pin),
                   self.y[pos].to(self.device, non_blocking=pin))

    def batches(self, batch_size, generator=None):
        """One pass: shuffled by `generator` (it also seeds the workers), in order without."""
        from torch.utils.data import DataLoader

        pin = self.device.type == "cuda"
        loader = DataLoader(_Picked(self.dataset, self.index.tolist()), batch_size=batch_size,
                            shuffle=generator is not None, generator=generator,
                            num_workers=self.workers, pin_memory=pin,
                            prefetch_factor=4 if self.workers else None)
        for x, pos in loader:
            yield x.to(self.device, non_blocking=pin), self.y[pos].to(self.device,
                                                                      non_blocking=pin)


def open_feeds(manifest, data_path, device, workers, train=True, augment=True, prepared=None,
               data_root=None):
    """(train, test) feeds of the dataset cached in `data_path` (train is None when not
    `train`; its disk images augmented unless not `augment`). Disk datasets are read from
    `prepared` ({"train": index.json, "test": index.json} of dilt.prepared splits) when
    given, else from `data_root` (dataset.data_root); either is checked to still hold the
    images the cache lists."""
    from .datasets import info, load_split

    source = manifest["source"]
    if source["storage"] == "memory":
        x_train, y_train, x_test, y_test = load_split(data_path)
        return (TensorFeed(x_train, y_train, device) if train else None,
                TensorFeed(x_test, y_test, device))
    _, y_train, _, y_test = load_split(data_path, with_images=False)
    if prepared is not None:
        from pathlib import Path

        from .prepared import open_feed

        def read(split, y, augmented):
            return open_feed(Path(prepared[split]).parent, y, device, augmented,
                             source["image_size"])

        return (read("train", y_train, augment) if train else None), read("test", y_test, False)
    from .disk_datasets import open_split

    def feed(split, y):
        ds = open_split(info(manifest["dataset"]), data_root, split, source["image_size"],
                        transforms=True, augment=split and augment)
        if not torch.equal(torch.as_tensor(ds.targets, dtype=torch.long), y):
            raise DiltError(f"{data_root}: the images are not those listed in {data_path}; "
                            f"rerun the partitions rule")
        return LoaderFeed(ds, y, device, workers)

    return (feed(True, y_train) if train else None), feed(False, y_test)
