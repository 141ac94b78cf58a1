"""Compute cost per rule from benchmark files: the aggregation and the tiny run's table."""

from pathlib import Path

import pandas as pd
import pytest

from dilt.cost import COLUMNS, cost_table
from dilt.io import DiltError

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(path, *rows):
    """A benchmark file as Snakemake writes it; rows are (wall s, max RSS MB, CPU s)."""
    lines = [f"{s}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n" for s, rss, cpu in rows]
    path.write_text(HEADER + "".join(lines))
    return path


def test_sums_time_and_takes_peak_memory_per_rule(tmp_path):
    a = bench(tmp_path / "a.tsv", (10.0, 800.5, 4.0))
    b = bench(tmp_path / "b.tsv", (20.0, 900.0, 6.0))
    g = bench(tmp_path / "g.tsv", (3.0, "NA", 2.5))  # RSS not sampled: left out
    table = cost_table({"train": [a, b], "gw": [g], "unused": []}).set_index("rule")
    assert list(table.reset_index().columns) == COLUMNS
    assert list(table.index) == ["train", "gw"]
    assert table.loc["train"].to_dict() == {"jobs": 2, "cpu_s": 10.0, "wall_s": 30.0,
                                            "max_wall_s": 20.0, "max_rss_mb": 900.0}
    assert table.loc["gw", "jobs"] == 1 and pd.isna(table.loc["gw", "max_rss_mb"])


def test_repeated_measurements_count_once(tmp_path):
    r = bench(tmp_path / "r.tsv", (10.0, 100.0, 4.0), (12.0, 120.0, 6.0))
    row = cost_table({"x": [r]}).iloc[0]
    assert (row["wall_s"], row["cpu_s"], row["max_rss_mb"]) == (11.0, 5.0, 120.0)


def test_a_file_that_is_no_benchmark_is_named(tmp_path):
    wrong = tmp_path / "metrics.tsv"
    wrong.write_text("a\tb\n1\t2\n")
    with pytest.raises(DiltError, match="metrics.tsv: not a Snakemake benchmark file"):
        cost_table({"x": [wrong]})


def test_tiny_run_cost_table_and_figure(tiny_run):
    _, P = tiny_run
    table = pd.read_csv(P.table("cost"), sep="\t").set_index("rule")
    jobs = {"partitions": 1, "imp_dense": 5, "imp_round": 15, "match": 1, "retrain": 27,
            "retrain_matched": 13, "random_masks": 1, "saliency_masks": 2, "rigl": 1,
            "transfer": 5, "distances": 4, "gw": 2}
    assert table["jobs"].to_dict() == jobs
    # Snakemake samples CPU time and memory, so a sub-second job (match, gw) may read ~0
    assert (table["wall_s"] > 0).all() and (table["cpu_s"] >= 0).all()
    assert (table["wall_s"] >= table["max_wall_s"]).all()
    training = table.loc[["imp_round", "retrain"]]
    assert (training["cpu_s"] > 0).all() and (training["max_rss_mb"] > 50).all()
    assert Path(P.figure("compute_cost", "pdf")).read_bytes()[:4] == b"%PDF"
