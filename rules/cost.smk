# Compute cost per rule, from the benchmark files of every job that trains, scores, generates
# masks or computes distances. Tables and plots are left out: they take seconds, and a rerun
# plot must not make the cost table outdated. The files are listed by benchmarks() in
# rules/common.smk.


rule cost_table:
    """Jobs, CPU seconds, wall seconds and peak RSS per rule, summed over its jobs."""
    localrule: True
    input:
        unpack(benchmarks),
    output:
        table_output("cost"),
    log:
        P.log("tables/cost"),
    benchmark:
        P.benchmark("tables/cost")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/cost_table.py"


rule compute_cost:
    """Time and peak memory per rule, from tables/cost.tsv."""
    localrule: True
    input:
        P.table("cost"),
    output:
        fig_outputs("compute_cost"),
    params:
        palette="deep",
    log:
        P.log("figures/compute_cost"),
    benchmark:
        P.benchmark("figures/compute_cost")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/compute_cost.py"
