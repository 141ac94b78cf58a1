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
        model=config["model"],
    log:
        P.log("seed{seed}/init"),
    benchmark:
        P.benchmark("seed{seed}/init")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/init.py"
