"""Rule retrain_table: every retrain JSON as one row of a tidy table."""

import pandas as pd

from dilt import io
from dilt.script import run


def main(smk, log):
    rows = []
    for path in smk.input:
        result = io.read_json(path)
        per_class = result.pop("per_class")
        rows.append({**result, **{f"acc_class{c}": a for c, a in per_class.items()}})
    table = pd.DataFrame(rows).sort_values(["ticket", "round", "seed"])
    table.insert(3, "sparsity", 1.0 - table["density"])
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


run(main, snakemake)  # noqa: F821
