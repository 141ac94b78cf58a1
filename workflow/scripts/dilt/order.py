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

from .seeding import job_seed


def epoch_order(n, seed, epoch):
    """The permutation of range(n) that epoch `epoch` visits."""
    gen = torch.Generator().manual_seed(job_seed(seed, "order", epoch))
    return torch.randperm(n, generator=gen)


def _shards(order, batch_size, start, rank, world):
    """(batch number, rank's contiguous part) of each global batch from `start` (part sizes
    differ by at most one)."""
    for number, first in enumerate(range(start * batch_size, len(order), batch_size), start):
        yield number, order[first:first + batch_size].tensor_split(world)[rank]


def batches(feed, batch_size, seed, epoch, start=0, rank=0, world=1):
    """(x, y) of rank's shard of each global batch of `epoch` of a training feed, from the
    epoch's batch `start` on. An empty shard (a last batch smaller than `world`) has no
    labels (and x None for disk images)."""
    order = epoch_order(len(feed), seed, epoch)
    yield from feed.shard_batches(_shards(order, batch_size, start, rank, world),
                                  job_seed(seed, "augment", epoch))
