"""Rule transfer_table: experiment 4 (transfer) results as one tidy table."""

import pandas as pd

from dilt import io
from dilt.script import run

COLUMNS = ["target", "ticket", "seed", "round", "density", "sparsity", "acc", "chance",
           "init_seed", "train_acc", "train_loss"]


def main(smk, log):
    table = pd.DataFrame([io.read_json(p) for p in smk.input])
    table["sparsity"] = 1.0 - table["density"]
    table = table[COLUMNS].sort_values(["ticket", "round", "seed"])
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


run(main, snakemake)  # noqa: F821
