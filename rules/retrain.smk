rule retrain:
    """Retrain one ticket from theta0 on all classes; accuracy overall and per partition."""
    input:
        mask=ticket_file,
        init=f"{OUT}/seed{{seed}}/init.safetensors",
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        f"{OUT}/seed{{seed}}/retrain/{{ticket}}/round{{round}}.json",
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
        f"logs/{EXP}/seed{{seed}}/retrain/{{ticket}}/round{{round}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/retrain/{{ticket}}/round{{round}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/retrain.py"


rule retrain_table:
    """All retraining results as one tidy table."""
    localrule: True
    input:
        retrain_jsons(),
    output:
        f"{OUT}/tables/retrain.tsv",
    log:
        f"logs/{EXP}/tables/retrain.log",
    benchmark:
        f"benchmarks/{EXP}/tables/retrain.tsv"
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
        f"{OUT}/tables/imp.tsv",
    log:
        f"logs/{EXP}/tables/imp.log",
    benchmark:
        f"benchmarks/{EXP}/tables/imp.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/imp_table.py"


rule exp1_table:
    """Experiment 1: accuracy, real density and wall-clock of finding every ticket."""
    localrule: True
    input:
        retrain=f"{OUT}/tables/retrain.tsv",
        imp=f"{OUT}/tables/imp.tsv",
        partitions=f"{OUT}/partitions.json",
        benchmarks=[b["path"] for b in benchmark_index()],
    output:
        f"{OUT}/tables/exp1.tsv",
    params:
        benchmarks=benchmark_index(),
        parts=PARTS,
        fraction=config["imp"]["fraction"],
    log:
        f"logs/{EXP}/tables/exp1.log",
    benchmark:
        f"benchmarks/{EXP}/tables/exp1.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/exp1_table.py"
