"""Rule exp1_same_round_table: the tickets of the same IMP round and the IMP chains' rounds,
with real density, accuracy and the wall-clock of finding each mask."""

from dilt import io, rule_job, tables
from dilt.cost import index_seconds
from dilt.partitions import load_manifest


def main(smk, log):
    p = smk.params
    manifest = load_manifest(smk.input.partitions)
    part_sizes = {q["name"]: len(q["classes"]) for q in manifest["partitions"]}
    part_sizes["full"] = manifest["num_classes"]
    table = tables.exp1_same_round(io.read_tsv(smk.input.retrain), io.read_tsv(smk.input.imp),
                                   part_sizes, index_seconds(p.benchmarks), p.parts, p.densities)
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
