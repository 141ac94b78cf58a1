"""Rule exp1_table: experiment 1 (benchmarking) as one tidy table: every retrained ticket and
every IMP chain round with real density, accuracy and the wall-clock of finding its mask."""

from dilt import io, rule_job, tables
from dilt.partitions import load_manifest


def main(smk, log):
    p = smk.params
    bench = {(b["seed"], b["job"], b["part"], b["round"]):
             float(io.read_tsv(b["path"])["s"].iloc[0]) for b in p.benchmarks}
    manifest = load_manifest(smk.input.partitions)
    part_sizes = {q["name"]: len(q["classes"]) for q in manifest["partitions"]}
    part_sizes["full"] = manifest["num_classes"]
    table = tables.exp1(io.read_tsv(smk.input.retrain), io.read_tsv(smk.input.imp), part_sizes,
                        bench, p.parts, p.densities)
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
