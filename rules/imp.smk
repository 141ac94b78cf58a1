rule imp_round:
    """IMP round r > 0 of one chain: prune round r-1, rewind (theta0 or late), train."""
    input:
        unpack(imp_inputs),
    output:
        mask=P.imp("mask.safetensors"),
        trained=P.imp("trained.safetensors"),
        metrics=P.imp("metrics.json"),
    wildcard_constraints:
        round=r"[1-9]\d*",
    params:
        model=MODEL,
        train=config["train"],
        fraction=lambda wc: configuration.fraction(config, wc.method),
        scope=config["imp"]["scope"],
        rewind_step=config["imp"]["rewind_step"],
        parts=PARTS,
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("train")
    resources:
        **job_resources("train"),
    retries: job_retries("train")
    log:
        P.log("seed{seed}/imp/{method}/{part}/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/imp/{method}/{part}/round{round}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/imp_round.py"


# Round 0 trains dense from theta0 and also keeps the weights after imp.rewind_step steps:
# the point every later round of the chain rewinds to (theta0 itself when the step is 0).
use rule imp_round as imp_dense with:
    output:
        mask=P.imp("mask.safetensors"),
        trained=P.imp("trained.safetensors"),
        metrics=P.imp("metrics.json"),
        rewind=P.imp("rewind.safetensors"),
    wildcard_constraints:
        round="0",
