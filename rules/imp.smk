rule imp_round:
    """One IMP round of one chain: prune the previous round, rewind to theta0, train."""
    input:
        unpack(imp_inputs),
    output:
        mask=imp_file("{method}", "{part}", "{round}", "mask.safetensors"),
        trained=imp_file("{method}", "{part}", "{round}", "trained.safetensors"),
        metrics=imp_file("{method}", "{part}", "{round}", "metrics.json"),
    params:
        model=config["model"],
        train=config["train"],
        imp=config["imp"],
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
