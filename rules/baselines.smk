# Baseline masks at the target sparsities of the matched view, same mask contract as IMP.
# CAP and SAViT prune LTH's trained round 0 and write the pruned weights beside each mask;
# their retraining starts from those weights (methods record `weights`).
# Which baseline a rule writes, and how, comes from its record in dilt/methods.py. Random
# controls with a ticket's per-layer counts are written with that ticket (rules tickets and
# match).


rule random_masks:
    """Random masks uniform over all prunable weights, one per target sparsity."""
    localrule: True
    input:
        init=P.init(),
        partitions=P.partitions(),
    output:
        [P.baseline("{kind}", s) for s in TARGETS],
    wildcard_constraints:
        kind="|".join(methods.by_rule("random_masks")),
    params:
        model=MODEL,
        sparsities=TARGETS,
    log:
        P.log("seed{seed}/baselines/{kind}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/{kind}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/random_masks.py"


rule saliency_masks:
    """Saliency at theta0 (SNIP, GraSP) on a fixed class-balanced sample, one mask per target."""
    input:
        unpack(prepared_inputs),
        init=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        [P.baseline("{kind}", s) for s in TARGETS],
    wildcard_constraints:
        kind="|".join(methods.by_rule("saliency_masks")),
    params:
        model=MODEL,
        sparsities=TARGETS,
        score=lambda wc: methods.RECORDS[wc.kind].score,
        saliency=config["baselines"]["saliency"],
        batch_size=config["train"]["batch_size"],
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("probe")
    resources:
        **job_resources("probe"),
    retries: job_retries("probe")
    log:
        P.log("seed{seed}/baselines/{kind}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/{kind}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/saliency_masks.py"


rule rigl:
    """RigL: sparse training from theta0 at a target sparsity; its own retraining result."""
    input:
        unpack(prepared_inputs),
        init=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        result=P.retrain("rigl", "sparsity{sparsity}"),
        mask=P.baseline("rigl"),
    params:
        model=MODEL,
        train=config["train"],
        rigl=config["baselines"]["rigl"],
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("train")
    resources:
        **job_resources("train"),
    retries: job_retries("train")
    log:
        P.log("seed{seed}/baselines/rigl/sparsity{sparsity}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/rigl/sparsity{sparsity}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/rigl.py"


rule cap:
    """CAP: gradual correlation-aware OBS pruning of LTH's trained round 0 through every
    target, with fine-tuning after each step; mask, weights and record per target."""
    input:
        start=methods.start_weights(P, "cap"),
        data=P.data(),
        partitions=P.partitions(),
    output:
        masks=[P.baseline("cap", s) for s in TARGETS],
        weights=[P.baseline_weights("cap", s) for s in TARGETS],
        records=[P.baseline_record("cap", s) for s in TARGETS],
    params:
        model=MODEL,
        sparsities=TARGETS,
        cap=config["baselines"]["cap"],
        train=config["train"],
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("probe")
    resources:
        **job_resources("probe"),
    retries: job_retries("probe")
    log:
        P.log("seed{seed}/baselines/cap"),
    benchmark:
        P.benchmark("seed{seed}/baselines/cap")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/cap.py"


rule savit:
    """SAViT: structured ViT pruning (heads, neurons, channels) of LTH's trained round 0 at
    every target density; mask, weights and record (FLOPs) per target."""
    input:
        start=methods.start_weights(P, "savit"),
        data=P.data(),
        partitions=P.partitions(),
    output:
        masks=[P.baseline("savit", s) for s in TARGETS],
        weights=[P.baseline_weights("savit", s) for s in TARGETS],
        records=[P.baseline_record("savit", s) for s in TARGETS],
    params:
        model=MODEL,
        sparsities=TARGETS,
        savit=config["baselines"]["savit"],
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("probe")
    resources:
        **job_resources("probe"),
    retries: job_retries("probe")
    log:
        P.log("seed{seed}/baselines/savit"),
    benchmark:
        P.benchmark("seed{seed}/baselines/savit")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/savit.py"


# A trained-sparse method writes its own retraining result.
ruleorder: rigl > retrain_matched
