# Compute cost per rule, from the benchmark files of every job that trains, scores, generates
# masks or computes distances. Tables and plots are left out: they take seconds, and a rerun
# plot must not make the cost table outdated. The list of files is benchmarks() in common.smk:
# a new compute rule gets an entry there.


rule cost_table:
    """Jobs, CPU seconds, wall seconds and peak RSS per rule, summed over its jobs."""
    localrule: True
    input:
        unpack(benchmarks),
    output:
        f"{OUT}/tables/cost.tsv",
    log:
        f"logs/{EXP}/tables/cost.log",
    benchmark:
        f"benchmarks/{EXP}/tables/cost.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/cost_table.py"


rule compute_cost:
    """Time and peak memory per rule, from tables/cost.tsv."""
    localrule: True
    input:
        f"{OUT}/tables/cost.tsv",
    output:
        fig_outputs("compute_cost"),
    params:
        palette="deep",
    log:
        f"logs/{EXP}/figures/compute_cost.log",
    benchmark:
        f"benchmarks/{EXP}/figures/compute_cost.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_compute_cost.py"
