rule retrain:
    """Same-round view: retrain one ticket of an IMP round from theta0 on all classes."""
    input:
        unpack(prepared_inputs),
        mask=round_mask,
        start=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        P.retrain(),
    params:
        model=MODEL,
        train=config["train"],
        device=config["device"],
        workers=config["workers"],
        point=lambda wc: point_name(ROUND, wc.round),
        identity=lambda wc: {"view": ROUND, "round": int(wc.round), "target_sparsity": None},
        start_step=0,
    threads: job_threads("train")
    resources:
        **job_resources("train"),
    retries: job_retries("train")
    log:
        P.log("seed{seed}/retrain/{ticket}/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/retrain/{ticket}/round{round}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/retrain.py"


use rule retrain as retrain_matched with:
    input:
        unpack(prepared_inputs),
        mask=matched_mask,
        start=matched_start,
        data=P.data(),
        partitions=P.partitions(),
    output:
        P.retrain("{ticket}", "sparsity{sparsity}"),
    params:
        model=MODEL,
        train=config["train"],
        device=config["device"],
        workers=config["workers"],
        point=lambda wc: f"sparsity{wc.sparsity}",
        identity=lambda wc: {"view": MATCHED, "round": None, "target_sparsity": float(wc.sparsity)},
        start_step=matched_start_step,
    log:
        P.log("seed{seed}/retrain/{ticket}/sparsity{sparsity}"),
    benchmark:
        P.benchmark("seed{seed}/retrain/{ticket}/sparsity{sparsity}")


rule retrain_table:
    """All retraining results of both views as one tidy table."""
    localrule: True
    input:
        round_results(),
        matched_results,
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
    """Experiment 1 at matched density: accuracy, real density, and the rounds, serial and
    parallel wall-clock and training steps of finding every ticket."""
    localrule: True
    input:
        retrain=P.table("retrain"),
        imp=P.table("imp"),
        matching=lambda wc: [
            f"{checkpoints.match.get(seed=s).output[0]}/matching.tsv" for s in SEEDS
        ],
        benchmarks=[b["path"] for b in benchmark_index()],
        records=baseline_records(),
    output:
        table_output("exp1"),
    params:
        benchmarks=benchmark_index(),
        parts=PARTS,
        seeds=SEEDS,
        tickets=MATCHED_TICKETS,
        targets=TARGETS,
    log:
        P.log("tables/exp1"),
    benchmark:
        P.benchmark("tables/exp1")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/exp1_table.py"


rule exp1_same_round_table:
    """The same-round view of experiment 1: tickets of the same IMP round, whatever their
    real densities, with the IMP chains' own rounds."""
    localrule: True
    input:
        retrain=P.table("retrain"),
        imp=P.table("imp"),
        partitions=P.partitions(),
        benchmarks=[b["path"] for b in benchmark_index()],
    output:
        table_output("exp1_same_round"),
    params:
        benchmarks=benchmark_index(),
        parts=PARTS,
        densities=DENSITIES,
    log:
        P.log("tables/exp1_same_round"),
    benchmark:
        P.benchmark("tables/exp1_same_round")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/exp1_same_round_table.py"


rule exp3_table:
    """Experiment 3: each specialist and the core against their random controls with the same
    per-layer counts, on every split, at every retrained round."""
    localrule: True
    input:
        P.table("retrain"),
    output:
        table_output("exp3"),
    params:
        parts=PARTS,
    log:
        P.log("tables/exp3"),
    benchmark:
        P.benchmark("tables/exp3")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/exp3_table.py"


rule comparisons_table:
    """Headline comparisons as paired-by-seed differences with CIs and p-values."""
    localrule: True
    input:
        P.table("retrain"),
    output:
        table_output("comparisons"),
    params:
        parts=PARTS,
        densities=DENSITIES,
    log:
        P.log("tables/comparisons"),
    benchmark:
        P.benchmark("tables/comparisons")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/comparisons_table.py"
