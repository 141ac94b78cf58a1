"""Compute cost per rule from Snakemake benchmark files (one TSV per job)."""

import pandas as pd

from .io import DiltError, read_tsv

COLUMNS = ["rule", "jobs", "cpu_s", "wall_s", "max_wall_s", "max_rss_mb"]


def job_cost(path):
    """Wall seconds, CPU seconds and peak RSS (MB) of one job; repeated runs are averaged."""
    bench = read_tsv(path)
    missing = {"s", "cpu_time", "max_rss"} - set(bench.columns)
    if missing:
        raise DiltError(f"{path}: not a Snakemake benchmark file (no {sorted(missing)} column)")
    return {"wall_s": bench["s"].mean(), "cpu_s": bench["cpu_time"].mean(),
            "max_rss_mb": bench["max_rss"].max()}


def cost_table(files_by_rule):
    """One row per rule with jobs: job count, summed CPU and wall seconds, longest job, peak RSS.

    A measurement Snakemake could not take (NA, e.g. RSS of a job shorter than its sampling
    interval) is left out of the sums and maxima.
    """
    rows = []
    for rule, paths in files_by_rule.items():
        if not paths:
            continue
        jobs = pd.DataFrame([job_cost(p) for p in paths])
        rows.append({"rule": rule, "jobs": len(jobs), "cpu_s": jobs["cpu_s"].sum(),
                     "wall_s": jobs["wall_s"].sum(), "max_wall_s": jobs["wall_s"].max(),
                     "max_rss_mb": jobs["max_rss_mb"].max()})
    return pd.DataFrame(rows, columns=COLUMNS)


def index_seconds(entries):
    """{(seed, job, part, point): wall seconds} of benchmark-index entries (dicts with path,
    seed, job, part, point), for the time-to-find columns of the tables."""
    return {(b["seed"], b["job"], b["part"], b["point"]): float(job_cost(b["path"])["wall_s"])
            for b in entries}
