# Baseline masks at the compared densities (1 - imp.fraction)^r, same mask contract as IMP.


rule random_masks:
    """Random masks: uniform over all prunable weights, or per layer matched to LTH's ticket."""
    localrule: True
    input:
        unpack(random_inputs),
    output:
        expand(baseline_file("{{kind}}", "{r}", "{{seed}}"), r=MASK_ROUNDS),
    wildcard_constraints:
        kind="random_global|random_lth",
    params:
        model=config["model"],
        rounds=MASK_ROUNDS,
        densities=[settings.densities(config)[r] for r in MASK_ROUNDS],
    log:
        f"logs/{EXP}/seed{{seed}}/baselines/{{kind}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/baselines/{{kind}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/random_masks.py"


rule saliency_masks:
    """SNIP or GraSP: score every prunable weight once at theta0 on the full training set."""
    input:
        init=f"{OUT}/seed{{seed}}/init.safetensors",
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        expand(baseline_file("{{kind}}", "{r}", "{{seed}}"), r=MASK_ROUNDS),
    wildcard_constraints:
        kind="snip|grasp",
    params:
        model=config["model"],
        rounds=MASK_ROUNDS,
        densities=[settings.densities(config)[r] for r in MASK_ROUNDS],
        batch_size=config["train"]["batch_size"],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"logs/{EXP}/seed{{seed}}/baselines/{{kind}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/baselines/{{kind}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/saliency_masks.py"


rule rigl:
    """RigL: sparse training from theta0 at the round's density; result as a retrained ticket."""
    input:
        init=f"{OUT}/seed{{seed}}/init.safetensors",
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        result=f"{OUT}/seed{{seed}}/retrain/rigl/round{{round}}.json",
        mask=baseline_file("rigl"),
    params:
        model=config["model"],
        train=config["train"],
        rigl=config["baselines"]["rigl"],
        density=lambda wc: settings.densities(config)[int(wc.round)],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"logs/{EXP}/seed{{seed}}/baselines/rigl/round{{round}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/baselines/rigl/round{{round}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/rigl_train.py"


ruleorder: rigl > retrain
