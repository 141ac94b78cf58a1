rule partitions:
    """Class partitions, the probe set and the cached train/test split."""
    output:
        manifest=P.partitions(),
        data=P.data(),
    params:
        dataset=DATASET,
        partitions=config["partitions"],
        probe=config["probe"],
    threads: job_threads("partitions")
    resources:
        **job_resources("partitions"),
    retries: job_retries("partitions")
    log:
        P.log("partitions"),
    benchmark:
        P.benchmark("partitions")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/partitions.py"


rule init:
    """theta0 for one seed."""
    localrule: True
    input:
        data=P.data(),
        partitions=P.partitions(),
    output:
        P.init(),
    params:
        model=MODEL,
    log:
        P.log("seed{seed}/init"),
    benchmark:
        P.benchmark("seed{seed}/init")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/init.py"


rule prepare_dataset:
    """One split of a disk dataset decoded and resized once into memory-mapped uint8 shards
    (dilt.prepared), read by every job when dataset.prepared is on. Only index.json is the
    output, so a killed run keeps its finished shards and a rerun writes the missing ones;
    dataset.data_root is read from the config, so moving the dataset reruns nothing."""
    output:
        P.prepared("{split}", config["dataset"]["name"], PREPARED_SIDE),
    wildcard_constraints:
        split="train|test",
    params:
        dataset=config["dataset"]["name"],
        side=PREPARED_SIDE,
    threads: job_threads("prepare")
    resources:
        **job_resources("prepare"),
    retries: job_retries("prepare")
    log:
        P.log("prepared/{split}"),
    benchmark:
        P.benchmark("prepared/{split}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/prepare_dataset.py"
