rule partitions:
    """Class partitions, the probe set and the cached train/test split."""
    output:
        manifest=f"{OUT}/partitions.json",
        data=f"{OUT}/data.safetensors",
    params:
        dataset=config["dataset"],
        partitions=config["partitions"],
        probe=config["probe"],
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        f"logs/{EXP}/partitions.log",
    benchmark:
        f"benchmarks/{EXP}/partitions.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/partitions.py"


rule init:
    """theta0 for one seed."""
    localrule: True
    input:
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        f"{OUT}/seed{{seed}}/init.safetensors",
    params:
        model=config["model"],
    log:
        f"logs/{EXP}/seed{{seed}}/init.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/init.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/init.py"
