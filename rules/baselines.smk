# Baseline masks at the compared densities, same mask contract as IMP. Which baseline a rule
# writes, and how, comes from its record in dilt/methods.py.


rule random_masks:
    """Random masks: uniform over all prunable weights, or with a ticket's per-layer counts."""
    localrule: True
    input:
        unpack(random_inputs),
    output:
        [P.baseline("{kind}", r) for r in MASK_ROUNDS],
    wildcard_constraints:
        kind="|".join(methods.by_rule("random_masks")),
    params:
        model=config["model"],
        rounds=MASK_ROUNDS,
        densities=baseline_densities(),
        reference=lambda wc: methods.RECORDS[wc.kind].reference,
    log:
        P.log("seed{seed}/baselines/{kind}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/{kind}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/random_masks.py"


rule saliency_masks:
    """Saliency at theta0 (SNIP, GraSP) on the full training set, one mask per density."""
    input:
        init=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        [P.baseline("{kind}", r) for r in MASK_ROUNDS],
    wildcard_constraints:
        kind="|".join(methods.by_rule("saliency_masks")),
    params:
        model=config["model"],
        rounds=MASK_ROUNDS,
        densities=baseline_densities(),
        score=lambda wc: methods.RECORDS[wc.kind].score,
        removes_highest=lambda wc: methods.RECORDS[wc.kind].removes_highest,
        batch_size=config["train"]["batch_size"],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        P.log("seed{seed}/baselines/{kind}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/{kind}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/saliency_masks.py"


rule rigl:
    """RigL: sparse training from theta0 at the round's density; result as a retrained ticket."""
    input:
        init=P.init(),
        data=P.data(),
        partitions=P.partitions(),
    output:
        result=P.retrain("rigl"),
        mask=P.baseline("rigl"),
    params:
        model=config["model"],
        train=config["train"],
        rigl=config["baselines"]["rigl"],
        density=lambda wc: DENSITIES["dilt"][int(wc.round)],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        P.log("seed{seed}/baselines/rigl/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/baselines/rigl/round{round}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/rigl.py"


# A trained-sparse method writes its own retraining result.
ruleorder: rigl > retrain
