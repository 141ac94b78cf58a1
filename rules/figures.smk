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
        P.log("figures/fig1_gw_heatmap"),
    benchmark:
        P.benchmark("figures/fig1_gw_heatmap")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig1_gw_heatmap.py"


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
        seeds=SEEDS,
    log:
        P.log("figures/fig2_layer_clusters"),
    benchmark:
        P.benchmark("figures/fig2_layer_clusters")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig2_layer_clusters.py"


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
        seeds=SEEDS,
    log:
        P.log("figures/fig3_block_bars"),
    benchmark:
        P.benchmark("figures/fig3_block_bars")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/fig3_block_bars.py"


rule vit_components:
    """ViT runs: core, specialist and union density and overlap beyond chance per block x
    component (heads, q/k/v/output projection, FFN)."""
    localrule: True
    input:
        [P.vit_overlap(FIG_ROUND, s) for s in SEEDS],
    output:
        fig_outputs("vit_components", "Functional analysis"),
    params:
        cmap="rocket_r",
        overlap_cmap="vlag",
        round=FIG_ROUND,
        seeds=SEEDS,
    log:
        P.log("figures/vit_components"),
    benchmark:
        P.benchmark("figures/vit_components")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/vit_components.py"


rule acc_vs_sparsity:
    """Experiment 1: accuracy of every ticket at matched real sparsity (mean, 95% CI)."""
    localrule: True
    input:
        P.table("exp1"),
    output:
        fig_outputs("acc_vs_sparsity", "Experiment 1: benchmarking"),
    params:
        tickets=COMPARED,
    log:
        P.log("figures/acc_vs_sparsity"),
    benchmark:
        P.benchmark("figures/acc_vs_sparsity")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/acc_vs_sparsity.py"


rule specialist_heatmap:
    """Accuracy of each ticket on all classes and on each partition's classes, every round."""
    localrule: True
    input:
        P.table("retrain"),
    output:
        fig_outputs("specialist_heatmap", "Experiment 3: specialists"),
    params:
        cmap="mako",
    log:
        P.log("figures/specialist_heatmap"),
    benchmark:
        P.benchmark("figures/specialist_heatmap")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/specialist_heatmap.py"


rule specialist_controls:
    """Experiment 3: each specialist and the core against its same-count random control."""
    localrule: True
    input:
        P.table("exp3"),
    output:
        fig_outputs("specialist_controls", "Experiment 3: specialists"),
    params:
        palette="Paired",
    log:
        P.log("figures/specialist_controls"),
    benchmark:
        P.benchmark("figures/specialist_controls")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/specialist_controls.py"


rule imp_accuracy:
    """Accuracy of each IMP chain on its own classes across pruning rounds."""
    localrule: True
    input:
        P.table("imp"),
    output:
        fig_outputs("imp_accuracy", "Experiment 1: benchmarking"),
    log:
        P.log("figures/imp_accuracy"),
    benchmark:
        P.benchmark("figures/imp_accuracy")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/imp_accuracy.py"


rule acc_vs_round:
    """Accuracy against the IMP round: every chain on its own classes, retrained tickets on all."""
    localrule: True
    input:
        P.table("exp1_same_round"),
    output:
        fig_outputs("acc_vs_round", "Experiment 1: benchmarking"),
    log:
        P.log("figures/acc_vs_round"),
    benchmark:
        P.benchmark("figures/acc_vs_round")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/acc_vs_round.py"


rule acc_vs_time:
    """Accuracy of each matched ticket against the wall-clock of finding its mask."""
    localrule: True
    input:
        P.table("exp1"),
    output:
        fig_outputs("acc_vs_time", "Experiment 1: benchmarking"),
    params:
        tickets=COMPARED,
    log:
        P.log("figures/acc_vs_time"),
    benchmark:
        P.benchmark("figures/acc_vs_time")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/acc_vs_time.py"


rule per_class_accuracy:
    """Per-class test accuracy of the DiLT tickets and references at the sparsest round."""
    localrule: True
    input:
        table=P.table("retrain"),
        partitions=P.partitions(),
    output:
        fig_outputs("per_class_accuracy", "Experiment 3: specialists"),
    params:
        round=max(RETRAIN_ROUNDS),
        tickets=[t for t in ROUND_TICKETS if t.startswith(("core", "union", "specialist_"))]
        + [t for t in ("lth", "colt") if t in ROUND_TICKETS]
        + ["dense"],
    log:
        P.log("figures/per_class_accuracy"),
    benchmark:
        P.benchmark("figures/per_class_accuracy")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/per_class_accuracy.py"


rule transfer_bars:
    """Experiment 4: target accuracy of each transferred ticket (mean, 95% CI over seeds)."""
    localrule: True
    input:
        P.table("exp4"),
    output:
        fig_outputs("transfer_bars", "Experiment 4: transfer"),
    params:
        palette="crest",
        tickets=config["transfer"]["tickets"],
    log:
        P.log("figures/transfer_bars"),
    benchmark:
        P.benchmark("figures/transfer_bars")
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow/scripts/transfer_bars.py"
