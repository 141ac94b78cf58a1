"""The order training sees its examples in: a pure function of (seed, epoch).

Epoch e visits the examples in a permutation drawn from (seed, e), in global batches of
batch_size. A run started or resumed at any step therefore sees exactly the batches an
uninterrupted run sees from that step on, and a job spread over several processes gives
each process its contiguous shard of every global batch. Disk images are augmented under a
seed of (seed, epoch, example), so the augmentation does not depend on the number of
DataLoader workers or processes, nor on the step a run resumed at; a resumed run does not
read the images of the batches it skips.
"""

import torch

from .batches import TensorFeed
from .seeding import job_seed


def epoch_order(n, seed, epoch):
    """The permutation of range(n) that epoch `epoch` visits."""
    gen = torch.Generator().manual_seed(job_seed(seed, "order", epoch))
    return torch.randperm(n, generator=gen)


def _shards(order, batch_size, start, rank, world):
    """Rank's contiguous part (sizes differ by at most one) of each global batch from `start`."""
    for first in range(start * batch_size, len(order), batch_size):
        yield order[first:first + batch_size].tensor_split(world)[rank]


class _Augmented:
    """Map-style dataset: feed position i -> (image i, i), augmented under the seed (seed, i)."""

    def __init__(self, dataset, index, seed):
        self.dataset, self.index, self.seed = dataset, index, seed

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        with torch.random.fork_rng(devices=[]):  # the caller's random state stays untouched
            torch.manual_seed(job_seed(self.seed, i))
            return self.dataset[self.index[i]][0], i


def _loader_batches(feed, shards, seed):
    """The shards' images through a DataLoader (empty shards yield (None, no labels))."""
    from torch.utils.data import DataLoader

    shards = [s.tolist() for s in shards]
    pin = feed.device.type == "cuda"
    loader = DataLoader(_Augmented(feed.dataset, feed.index.tolist(), seed),
                        batch_sampler=[s for s in shards if s], num_workers=feed.workers,
                        pin_memory=pin, prefetch_factor=4 if feed.workers else None,
                        generator=torch.Generator())
    loaded = iter(loader)
    for shard in shards:
        if not shard:
            yield None, torch.empty(0, dtype=torch.long, device=feed.device)
            continue
        x, pos = next(loaded)
        yield (x.to(feed.device, non_blocking=pin),
               feed.y[pos].to(feed.device, non_blocking=pin))


def batches(feed, batch_size, seed, epoch, start=0, rank=0, world=1):
    """(x, y) of rank's shard of each global batch of `epoch` of a training feed, from the
    epoch's batch `start` on. An empty shard (a last batch smaller than `world`) has no
    labels (and x None for disk images)."""
    order = epoch_order(len(feed), seed, epoch)
    if isinstance(feed, TensorFeed):
        for idx in _shards(order.to(feed.device), batch_size, start, rank, world):
            yield feed.x[idx], feed.y[idx]
        return
    yield from _loader_batches(feed, _shards(order, batch_size, start, rank, world),
                               job_seed(seed, "augment", epoch))
