rule partitions:
    """Class partitions, the probe set and the cached train/test split."""
    output:
        manifest=f"{OUT}/partitions.json",
        data=f"{OUT}/data.safetensors",
    params:
        dataset=config["dataset"],
        partitions=config["partitions"],
        probe=config["probe"],
    log:
        f"logs/{EXP}/partitions.log",
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/partitions.py"


rule init:
    """theta0 for one seed."""
    input:
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        f"{OUT}/seed{{seed}}/init.safetensors",
    params:
        model=config["model"],
    log:
        f"logs/{EXP}/seed{{seed}}/init.log",
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/init.py"
