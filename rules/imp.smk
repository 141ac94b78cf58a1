rule imp_round:
    """IMP round r > 0 of one chain: prune round r-1, rewind (theta0 or late), train."""
    input:
        unpack(imp_inputs),
    output:
        mask=imp_file("{method}", "{part}", "{round}", "mask.safetensors"),
        trained=imp_file("{method}", "{part}", "{round}", "trained.safetensors"),
        metrics=imp_file("{method}", "{part}", "{round}", "metrics.json"),
    wildcard_constraints:
        round=r"[1-9]\d*",
    params:
        model=config["model"],
        train=config["train"],
        fraction=imp_fraction,
        scope=config["imp"]["scope"],
        rewind_step=config["imp"]["rewind_step"],
        parts=PARTS,
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"logs/{EXP}/seed{{seed}}/imp/{{method}}/{{part}}/round{{round}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/imp/{{method}}/{{part}}/round{{round}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/imp_round.py"


# Round 0 trains dense from theta0 and also keeps the weights after imp.rewind_step steps:
# the point every later round of the chain rewinds to (theta0 itself when the step is 0).
use rule imp_round as imp_dense with:
    output:
        mask=imp_file("{method}", "{part}", "{round}", "mask.safetensors"),
        trained=imp_file("{method}", "{part}", "{round}", "trained.safetensors"),
        metrics=imp_file("{method}", "{part}", "{round}", "metrics.json"),
        rewind=imp_file("{method}", "{part}", "{round}", "rewind.safetensors"),
    wildcard_constraints:
        round="0",
