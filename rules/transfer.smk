# Experiment 4: source tickets on a fresh initialisation, trained on another task.


rule transfer_data:
    """The transfer target (transfer.target), generated offline in the source's input shape."""
    localrule: True
    input:
        partitions=P.partitions(),
    output:
        data=P.transfer_target("data.safetensors"),
        info=P.transfer_target("dataset.json"),
    params:
        target=TARGET,
        samples=config["transfer"]["samples"],
        seed=config["transfer"]["seed"],
    log:
        P.log("transfer/{target}/data"),
    benchmark:
        P.benchmark("transfer/{target}/data")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/transfer_data.py"


rule transfer:
    """Train one source ticket (or the dense network) from another seed's init on the target."""
    input:
        mask=round_mask,
        data=rules.transfer_data.output.data,
        info=rules.transfer_data.output.info,
    output:
        P.transfer(),
    params:
        model=MODEL,
        train=config["train"],
        device=config["device"],
    threads: job_threads("train")
    resources:
        **job_resources("train"),
    retries: job_retries("train")
    log:
        P.log("seed{seed}/transfer/{target}/{ticket}/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/transfer/{target}/{ticket}/round{round}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/transfer.py"


rule transfer_table:
    """Experiment 4: every transfer result as one tidy table."""
    localrule: True
    input:
        transfer_jobs(P.transfer()),
    output:
        table_output("exp4"),
    log:
        P.log("tables/exp4"),
    benchmark:
        P.benchmark("tables/exp4")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/transfer_table.py"
