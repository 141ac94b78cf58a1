"""Rule exp1_table: experiment 1 at matched density as one tidy table: every ticket at every
target sparsity, with its real density, accuracy and the cost of finding its mask."""

import pandas as pd

from dilt import io, rule_job, tables
from dilt.cost import index_seconds


def main(smk, log):
    p = smk.params
    matching = pd.concat([io.read_tsv(path).assign(seed=seed)
                          for path, seed in zip(smk.input.matching, p.seeds, strict=True)])
    records = [io.read_json(path) for path in smk.input.records]
    own_steps = {(r["method"], r["seed"], r["target_sparsity"]): r.get("train_steps", 0)
                 for r in records}
    table = tables.exp1(io.read_tsv(smk.input.retrain), io.read_tsv(smk.input.imp), matching,
                        index_seconds(p.benchmarks), p.parts, own_steps)
    log(f"{len(table)} rows, {int((~table['feasible'].astype(bool)).sum())} infeasible")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
