"""Rule exp3_table: specialists and the core against their same-count random controls."""

from dilt import io, rule_job, tables


def main(smk, log):
    table = tables.exp3(io.read_tsv(smk.input[0]), smk.params.parts)
    log(f"{len(table)} rows")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
