"""Transfer targets (experiment 4): offline datasets laid out like the source's inputs."""

import math

import numpy as np

from .data import Dataset, Split
from .io import DiltError


def mnist1d(in_shape, samples, seed):
    """MNIST-1D (Greydanus 2020), generated offline by the mnist1d package: 10 classes of 1-D
    waveform templates, randomly padded, scaled, translated, sheared and noised. Each signal is
    sampled at prod(in_shape) points and laid out row by row in the source's input shape;
    the package's 80/20 train/test split."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.final_seq_length, args.seed = samples, math.prod(in_shape), seed
    data = make_dataset(args)

    def split(x, y):
        return Split(np.asarray(y, np.int64), np.asarray(x, np.float32).reshape(-1, *in_shape))

    return Dataset("mnist1d", 10, split(data["x"], data["y"]),
                   split(data["x_test"], data["y_test"]), in_shape)


TARGETS = {"mnist1d": mnist1d}


def load_target(name, in_shape, samples, seed):
    """The target dataset named by transfer.target, shaped like the source inputs."""
    try:
        dataset = TARGETS[name](tuple(in_shape), samples, seed)
    except KeyError:
        raise DiltError(f"transfer.target: unknown target '{name}'") from None
    if min(np.bincount(dataset.test.y, minlength=dataset.num_classes)) == 0:
        raise DiltError(f"transfer.samples: {samples} leaves a {name} class without test "
                        "examples")
    return dataset
