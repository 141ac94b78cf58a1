# Figures read small tables only; plot settings live in params, so changing one reruns one job.
# Plots take seconds: they are local rules, run by the main snakemake process, never sbatch jobs.


rule fig1_gw_heatmap:
    """Figure 1: GW distances between the layers of chain A and chain B (mean over seeds)."""
    localrule: True
    input:
        round_files("gw.tsv"),
    output:
        fig_outputs("fig1_gw_heatmap", "Functional analysis"),
    params:
        rows=PARTS[0],
        cols=PARTS[1],
        cmap="viridis",
        round=FIG_ROUND,
    log:
        f"logs/{EXP}/figures/fig1_gw_heatmap.log",
    benchmark:
        f"benchmarks/{EXP}/figures/fig1_gw_heatmap.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_gw_heatmap.py"


rule fig2_layer_clusters:
    """Figure 2: each chain's layers in network order, coloured by spectral cluster."""
    localrule: True
    input:
        round_files("clusters.tsv"),
    output:
        fig_outputs("fig2_layer_clusters", "Functional analysis"),
    params:
        palette="tab10",
        round=FIG_ROUND,
    log:
        f"logs/{EXP}/figures/fig2_layer_clusters.log",
    benchmark:
        f"benchmarks/{EXP}/figures/fig2_layer_clusters.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_layer_clusters.py"


rule fig3_block_bars:
    """Figure 3: per block, mean mask Jaccard (with chance) and mean same-layer GW."""
    localrule: True
    input:
        blocks=round_files("blocks.tsv"),
        correlation=round_files("correlation.json"),
    output:
        fig_outputs("fig3_block_bars", "Functional analysis"),
    params:
        palette="Set2",
        round=FIG_ROUND,
    log:
        f"logs/{EXP}/figures/fig3_block_bars.log",
    benchmark:
        f"benchmarks/{EXP}/figures/fig3_block_bars.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_block_bars.py"


rule acc_vs_sparsity:
    """Test accuracy of every retrained ticket against its real sparsity (mean, 95% CI)."""
    localrule: True
    input:
        f"{OUT}/tables/exp1.tsv",
    output:
        fig_outputs("acc_vs_sparsity", "Experiment 1: benchmarking"),
    params:
        tickets=COMPARED,
    log:
        f"logs/{EXP}/figures/acc_vs_sparsity.log",
    benchmark:
        f"benchmarks/{EXP}/figures/acc_vs_sparsity.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_acc_vs_sparsity.py"


rule specialist_heatmap:
    """Accuracy of each ticket on all classes and on each partition's classes, every round."""
    localrule: True
    input:
        f"{OUT}/tables/retrain.tsv",
    output:
        fig_outputs("specialist_heatmap", "Experiment 3: specialists"),
    params:
        cmap="mako",
    log:
        f"logs/{EXP}/figures/specialist_heatmap.log",
    benchmark:
        f"benchmarks/{EXP}/figures/specialist_heatmap.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_specialist_heatmap.py"


rule imp_accuracy:
    """Accuracy of each IMP chain on its own classes across pruning rounds."""
    localrule: True
    input:
        f"{OUT}/tables/imp.tsv",
    output:
        fig_outputs("imp_accuracy", "Experiment 1: benchmarking"),
    log:
        f"logs/{EXP}/figures/imp_accuracy.log",
    benchmark:
        f"benchmarks/{EXP}/figures/imp_accuracy.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_imp_accuracy.py"


rule acc_vs_round:
    """Accuracy against the IMP round: every chain on its own classes, retrained tickets on all."""
    localrule: True
    input:
        f"{OUT}/tables/exp1.tsv",
    output:
        fig_outputs("acc_vs_round", "Experiment 1: benchmarking"),
    log:
        f"logs/{EXP}/figures/acc_vs_round.log",
    benchmark:
        f"benchmarks/{EXP}/figures/acc_vs_round.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_acc_vs_round.py"


rule acc_vs_time:
    """Accuracy of each retrained ticket against the wall-clock of finding its mask."""
    localrule: True
    input:
        f"{OUT}/tables/exp1.tsv",
    output:
        fig_outputs("acc_vs_time", "Experiment 1: benchmarking"),
    params:
        tickets=COMPARED,
    log:
        f"logs/{EXP}/figures/acc_vs_time.log",
    benchmark:
        f"benchmarks/{EXP}/figures/acc_vs_time.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_acc_vs_time.py"


rule per_class_accuracy:
    """Per-class test accuracy of the DiLT tickets and references at the sparsest round."""
    localrule: True
    input:
        table=f"{OUT}/tables/retrain.tsv",
        partitions=f"{OUT}/partitions.json",
    output:
        fig_outputs("per_class_accuracy", "Experiment 3: specialists"),
    params:
        round=max(RETRAIN_ROUNDS),
        tickets=["core", "union", *SPECIALISTS, *IMP_TICKETS, "dense"],
    log:
        f"logs/{EXP}/figures/per_class_accuracy.log",
    benchmark:
        f"benchmarks/{EXP}/figures/per_class_accuracy.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_per_class.py"


rule transfer_bars:
    """Experiment 4: target accuracy of each transferred ticket (mean, 95% CI over seeds)."""
    localrule: True
    input:
        f"{OUT}/tables/exp4.tsv",
    output:
        fig_outputs("transfer_bars", "Experiment 4: transfer"),
    params:
        palette="crest",
        tickets=config["transfer"]["tickets"],
    log:
        f"logs/{EXP}/figures/transfer_bars.log",
    benchmark:
        f"benchmarks/{EXP}/figures/transfer_bars.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_transfer.py"
