"""Shared figure helpers: headless backend, consistent style, atomic PDF + PNG output."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from .io import DiltError, atomic_path  # noqa: E402

sns.set_theme(context="paper", style="whitegrid")
MARGIN = 0.98  # share of its room (see _span) a text may span


def _texts(fig):
    """The non-empty text artists a draw of the figure paints (tick labels outside the view
    limits exist but are not painted)."""
    painted, draw = [], Text.draw

    def record(text, renderer):
        if text.get_visible() and text.get_text().strip():
            painted.append(text)
        return draw(text, renderer)

    Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        Text.draw = draw
    return painted


def _span(text, renderer):
    """(length of `text` along its reading direction, the room along it: its axes' side for
    axis labels and titles, the figure's side for figure texts), in pixels."""
    fig = text.figure
    owner = text.axes or next((ax for ax in fig.axes
                               if text in (ax.xaxis.label, ax.yaxis.label)), fig)
    box, room = text.get_window_extent(renderer), owner.get_window_extent(renderer)
    if 45 < text.get_rotation() % 180 < 135:
        return box.height, room.height
    return box.width, room.width


def wrap_long_labels(fig, originals):
    """Break each title and axis label longer than its room (see _span) into lines at word
    boundaries so that each line fits; `originals` ({text: its string before any wrapping})
    is updated. Tick labels and legends are left as they are. True if any text changed."""
    import textwrap

    renderer = fig.canvas.get_renderer()
    labels = set(fig.texts) | {t for ax in fig.axes
                               for t in (ax.title, ax.xaxis.label, ax.yaxis.label)}
    changed = False
    for text in [t for t in _texts(fig) if t in labels]:
        length, room = _span(text, renderer)
        if length > MARGIN * room:
            lines = originals.setdefault(text, text.get_text()).split("\n")
            longest = max(len(line) for line in text.get_text().split("\n"))
            width = max(8, int(longest * MARGIN * room / length))
            wrapped = "\n".join(textwrap.fill(line, width, break_long_words=False)
                                for line in lines)
            changed |= wrapped != text.get_text()
            text.set_text(wrapped)
    return changed


def texts_outside(fig):
    """Texts of the figure that extend beyond its edges (after layout), as strings."""
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    outside = []
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        if (box.x0 < fig_box.x0 - 1 or box.y0 < fig_box.y0 - 1 or box.x1 > fig_box.x1 + 1
                or box.y1 > fig_box.y1 + 1):
            outside.append(text.get_text())
    return outside


def save(fig, outputs):
    """Lay out the figure (long titles and axis labels broken into lines), check that every
    text lies inside it, and write it to every output path (format from the suffix),
    atomically."""
    originals = {}
    fig.tight_layout()
    for _ in range(3):  # each layout shrinks the axes, and so the room of their labels
        if not wrap_long_labels(fig, originals):
            break
        fig.tight_layout()
    outside = texts_outside(fig)
    if outside:
        plt.close(fig)
        raise DiltError(f"{outputs[0]}: text outside the figure: {outside[0]!r}")
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
