"""Rule exp1_table: experiment 1 (benchmarking) as one tidy table: every retrained ticket and
every IMP chain round with real density, accuracy and the wall-clock of finding its mask."""

import pandas as pd

from dilt import accounting, io
from dilt.partitions import load_manifest
from dilt.script import run

COLUMNS = ["stage", "method", "ticket", "seed", "round", "target_sparsity", "density",
           "sparsity", "accuracy", "evaluated_on", "chance", "find_seconds"]


def main(smk, log):
    p = smk.params
    bench = {(b["seed"], b["job"], b["part"], b["round"]):
             float(io.read_tsv(b["path"])["s"].iloc[0]) for b in p.benchmarks}
    retrain = io.read_tsv(smk.input.retrain)
    retrain = retrain.assign(
        stage="retrain", method=retrain["ticket"].map(accounting.method_of),
        accuracy=retrain["acc_all"], evaluated_on="all",
        find_seconds=[accounting.find_seconds(t, r, s, p.parts, bench) for t, r, s in
                      zip(retrain["ticket"], retrain["round"], retrain["seed"], strict=True)])
    manifest = load_manifest(smk.input.partitions)
    classes = {q["name"]: len(q["classes"]) for q in manifest["partitions"]}
    classes["full"] = manifest["num_classes"]
    imp = io.read_tsv(smk.input.imp)
    imp = imp.assign(
        stage="imp", ticket=imp["part"], accuracy=imp["test_acc"],
        evaluated_on=imp["part"].replace("full", "all"), chance=1.0 / imp["part"].map(classes),
        find_seconds=[sum(bench[(s, m, q, r)] for r in range(rnd)) for m, q, s, rnd in
                      zip(imp["method"], imp["part"], imp["seed"], imp["round"], strict=True)])
    table = pd.concat([retrain, imp], ignore_index=True)
    table["sparsity"] = 1.0 - table["density"]
    table["target_sparsity"] = 1.0 - (1.0 - p.fraction) ** table["round"]
    table.loc[table["ticket"] == "dense", "target_sparsity"] = 0.0
    table = table[COLUMNS].sort_values(["stage", "method", "ticket", "round", "seed"])
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


run(main, snakemake)  # noqa: F821
