# Figures read small tables only; plot settings live in params, so changing one reruns one job.
# Plots take seconds: they are local rules, run by the main snakemake process, never sbatch jobs.


rule fig1_gw_heatmap:
    """Figure 1: GW distances between the layers of chain A and chain B (mean over seeds)."""
    localrule: True
    input:
        round_files("gw.tsv"),
    output:
        fig_outputs("fig1_gw_heatmap"),
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
        fig_outputs("fig2_layer_clusters"),
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
        fig_outputs("fig3_block_bars"),
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
        f"{OUT}/tables/retrain.tsv",
    output:
        fig_outputs("acc_vs_sparsity"),
    params:
        metric="acc_all",
    log:
        f"logs/{EXP}/figures/acc_vs_sparsity.log",
    benchmark:
        f"benchmarks/{EXP}/figures/acc_vs_sparsity.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_acc_vs_sparsity.py"


rule specialist_heatmap:
    """Accuracy of each ticket on all classes and on each partition's classes."""
    localrule: True
    input:
        f"{OUT}/tables/retrain.tsv",
    output:
        fig_outputs("specialist_heatmap"),
    params:
        round=max(RETRAIN_ROUNDS),
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
        fig_outputs("imp_accuracy"),
    log:
        f"logs/{EXP}/figures/imp_accuracy.log",
    benchmark:
        f"benchmarks/{EXP}/figures/imp_accuracy.tsv"
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig_imp_accuracy.py"
