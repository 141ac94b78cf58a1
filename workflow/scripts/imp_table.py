"""Rule imp_table: per-round metrics of every IMP chain as one tidy table."""

from dilt import io, rule_job, tables


def main(smk, log):
    table = tables.imp([io.read_json(p) for p in smk.input])
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
