rule retrain:
    """Retrain one ticket from theta0 on all classes; accuracy overall and per partition."""
    input:
        mask=ticket_mask,
        init=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        P.retrain(),
    params:
        model=config["model"],
        train=config["train"],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        P.log("seed{seed}/retrain/{ticket}/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/retrain/{ticket}/round{round}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/retrain.py"


rule retrain_table:
    """All retraining results as one tidy table."""
    localrule: True
    input:
        retrain_results(),
    output:
        table_output("retrain"),
    log:
        P.log("tables/retrain"),
    benchmark:
        P.benchmark("tables/retrain")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/retrain_table.py"


rule imp_table:
    """Per-round IMP metrics of every chain as one tidy table."""
    localrule: True
    input:
        imp_metrics(),
    output:
        table_output("imp"),
    log:
        P.log("tables/imp"),
    benchmark:
        P.benchmark("tables/imp")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/imp_table.py"


rule exp1_table:
    """Experiment 1: accuracy, real density and wall-clock of finding every ticket."""
    localrule: True
    input:
        retrain=P.table("retrain"),
        imp=P.table("imp"),
        partitions=P.partitions(),
        benchmarks=[b["path"] for b in benchmark_index()],
    output:
        table_output("exp1"),
    params:
        benchmarks=benchmark_index(),
        parts=PARTS,
        densities=DENSITIES,
    log:
        P.log("tables/exp1"),
    benchmark:
        P.benchmark("tables/exp1")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/exp1_table.py"
