"""Rule comparisons_table: the headline comparisons, paired by seed, with CIs and p-values."""

from dilt import io, rule_job, tables


def main(smk, log):
    table = tables.comparisons(io.read_tsv(smk.input[0]), smk.params.parts,
                               smk.params.densities)
    log(f"{len(table)} comparisons")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
