"""dilt.plotting.save: long titles and labels are broken into lines, no text leaves the figure."""

import matplotlib.pyplot as plt
import pytest

from dilt import plotting
from dilt.io import DiltError

TITLE = ("Blocks at round 11. Spearman(Jaccard, GW) over layers: seed 0: rho=-0.03, p=1.000; "
         "seed 1: rho=-0.03, p=1.000; seed 2: rho=0.12, p=0.500")


def test_a_title_longer_than_the_figure_is_wrapped_inside_it(tmp_path):
    fig, axes = plt.subplots(1, 2, figsize=(5, 3))
    title = fig.suptitle(TITLE)
    axes[0].set_ylabel("a y label much longer than the axes it belongs to, surely")
    assert plotting.texts_outside(fig)  # as drawn before save
    plotting.save(fig, [tmp_path / "fig.png"])  # raises DiltError if any text is outside
    assert title.get_text().replace("\n", " ") == TITLE and title.get_text().count("\n") >= 1
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_text_outside_the_figure_is_refused_and_nothing_written(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    fig.text(1.02, 0.5, "off the edge")
    with pytest.raises(DiltError, match="text outside the figure: 'off the edge'"):
        plotting.save(fig, [tmp_path / "fig.png"])
    assert not (tmp_path / "fig.png").exists()


def test_tick_labels_outside_the_view_do_not_count(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_ylim(0, 1.05)  # the locator places a tick at 1.2, which is not drawn
    plotting.save(fig, [tmp_path / "fig.png"])
