# Experiment 4: source tickets on a fresh initialisation, trained on another task.


rule transfer_data:
    """The transfer target (transfer.target), generated offline in the source's input shape."""
    localrule: True
    input:
        partitions=f"{OUT}/partitions.json",
    output:
        data=f"{OUT}/transfer/{{target}}/data.safetensors",
        info=f"{OUT}/transfer/{{target}}/dataset.json",
    params:
        target=TARGET,
        samples=config["transfer"]["samples"],
        seed=config["transfer"]["seed"],
    log:
        f"logs/{EXP}/transfer/{{target}}/data.log",
    benchmark:
        f"benchmarks/{EXP}/transfer/{{target}}/data.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/transfer_data.py"


rule transfer:
    """Train one source ticket (or the dense network) from another seed's init on the target."""
    input:
        mask=ticket_file,
        data=f"{OUT}/transfer/{{target}}/data.safetensors",
        info=f"{OUT}/transfer/{{target}}/dataset.json",
    output:
        f"{OUT}/seed{{seed}}/transfer/{{target}}/{{ticket}}/round{{round}}.json",
    params:
        model=config["model"],
        train=config["train"],
        device=config["device"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"logs/{EXP}/seed{{seed}}/transfer/{{target}}/{{ticket}}/round{{round}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/transfer/{{target}}/{{ticket}}/round{{round}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/transfer.py"


rule transfer_table:
    """Experiment 4: every transfer result as one tidy table."""
    localrule: True
    input:
        transfer_jobs(rules.transfer.output[0]),
    output:
        f"{OUT}/tables/exp4.tsv",
    log:
        f"logs/{EXP}/tables/exp4.log",
    benchmark:
        f"benchmarks/{EXP}/tables/exp4.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/transfer_table.py"
