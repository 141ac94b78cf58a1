"""Shared figure helpers: headless backend, consistent style, atomic PDF + PNG output."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from .io import atomic_path  # noqa: E402

sns.set_theme(context="paper", style="whitegrid")


def save(fig, outputs):
    """Write the figure to every output path (format from the suffix), atomically."""
    fig.tight_layout()
    for path in outputs:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:], dpi=150)
    plt.close(fig)


def read_per_seed(paths, seeds, **kwargs):
    """Concatenate per-seed TSV tables (one per seed, in the order of `seeds`) with a 'seed'
    column."""
    import pandas as pd

    from .io import read_tsv

    return pd.concat([read_tsv(p, **kwargs).assign(seed=seed)
                      for p, seed in zip(paths, seeds, strict=True)])


def mean_over_seeds(data, column, by):
    """Replace `column` by its mean over the rows of each `by` group (i.e. over seeds), so that
    seaborn aggregates the plotted variable across seeds at one position."""
    return data.assign(**{column: data.groupby(by)[column].transform("mean")})


def mean_ci(values, n_boot=1000, seed=0):
    """Mean and percentile-bootstrap 95% CI of the mean (as seaborn's errorbar=("ci", 95))."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    boots = rng.choice(values, (n_boot, len(values))).mean(1)
    low, high = np.percentile(boots, [2.5, 97.5])
    return float(values.mean()), float(low), float(high)
