rule partitions:
    """Class partitions, the probe set and the cached train/test split."""
    output:
        manifest=P.partitions(),
        data=P.data(),
    params:
        dataset=config["dataset"],
        partitions=config["partitions"],
        probe=config["probe"],
    resources:
        mem_mb=4000,
        runtime=30,
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
