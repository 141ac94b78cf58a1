"""Rule imp_table: per-round metrics of every IMP chain as one tidy table."""

import pandas as pd

from dilt import io
from dilt.script import run

COLUMNS = ["method", "part", "seed", "round", "density", "test_acc", "train_acc",
           "train_loss", "pruned_nonzero"]


def main(smk, log):
    table = pd.DataFrame([io.read_json(p) for p in smk.input])[COLUMNS]
    table = table.sort_values(["method", "part", "seed", "round"])
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


run(main, snakemake)  # noqa: F821
