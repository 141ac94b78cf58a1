"""Rule cost_table: CPU seconds, wall seconds and peak memory per rule from benchmark files."""

from dilt import io
from dilt.cost import cost_table
from dilt.script import run


def main(smk, log):
    table = cost_table({rule: list(smk.input[rule]) for rule in smk.input.keys()})
    log(f"{int(table['jobs'].sum())} jobs, {table['cpu_s'].sum():.1f} CPU s, "
        f"{table['wall_s'].sum():.1f} wall s")
    io.write_tsv(smk.output[0], table)


run(main, snakemake)  # noqa: F821
