"""Rule cost_table: CPU seconds, wall seconds and peak memory per rule from benchmark files."""

from dilt import io, rule_job
from dilt.cost import cost_table


def main(smk, log):
    table = cost_table({rule: list(smk.input[rule]) for rule in smk.input.keys()})
    log(f"{int(table['jobs'].sum())} jobs, {table['cpu_s'].sum():.1f} CPU s, "
        f"{table['wall_s'].sum():.1f} wall s")
    io.write_tsv(smk.output[0], table)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
