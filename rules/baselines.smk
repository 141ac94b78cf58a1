# Baseline masks at the target sparsities of the matched view, same mask contract as IMP.
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


# A trained-sparse method writes its own retraining result.
ruleorder: rigl > retrain_matched
