rule distances:
    """Probe-set pairwise-distance matrix of every representation layer of one DiLT chain."""
    input:
        unpack(prepared_inputs),
        trained=P.imp("trained.safetensors", "dilt"),
        data=P.data(),
        partitions=P.partitions(),
    output:
        P.analysis("distances_{part}.npz"),
    params:
        model=MODEL,
        probe=config["probe"],
        device=config["device"],
        workers=config["workers"],
    threads: job_threads("probe")
    resources:
        **job_resources("probe"),
    retries: job_retries("probe")
    log:
        P.log("seed{seed}/gw/round{round}/distances_{part}"),
    benchmark:
        P.benchmark("seed{seed}/gw/round{round}/distances_{part}")
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/distances.py"


rule gw:
    """Gromov-Wasserstein distance between every pair of layers of all K chains."""
    input:
        [P.analysis(f"distances_{p}.npz") for p in PARTS],
    output:
        P.analysis("gw.tsv"),
    params:
        parts=PARTS,
        solver=config["gw"]["solver"],
        device=config["gw"]["device"],
    threads: job_threads("gw")
    resources:
        **job_resources("gw"),
    retries: job_retries("gw")
    log:
        P.log("seed{seed}/gw/round{round}/gw"),
    benchmark:
        P.benchmark("seed{seed}/gw/round{round}/gw")
    conda:
        "../envs/analysis.yaml" if config["gw"]["device"] == "cpu" else "../envs/torch.yaml"
    script:
        "../workflow/scripts/gw.py"


rule clusters:
    """Spectral clustering of all layers on a heat-kernel similarity of their GW distances."""
    localrule: True
    input:
        P.analysis("gw.tsv"),
    output:
        P.analysis("clusters.tsv"),
    params:
        n_clusters=config["gw"]["n_clusters"],
        max_clusters=config["gw"]["max_clusters"],
        alpha=config["gw"]["cluster_alpha"],
    log:
        P.log("seed{seed}/gw/round{round}/clusters"),
    benchmark:
        P.benchmark("seed{seed}/gw/round{round}/clusters")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/clusters.py"


rule blocks:
    """Per functional block: mask overlap (raw, chance-corrected) vs same-layer GW, and the
    correlation tests over layers."""
    localrule: True
    input:
        gw=P.analysis("gw.tsv"),
        clusters=P.analysis("clusters.tsv"),
        masks=[P.imp("mask.safetensors", "dilt", p) for p in PARTS],
    output:
        blocks=P.analysis("blocks.tsv"),
        correlation=P.analysis("correlation.json"),
    params:
        parts=PARTS,
        permutations=config["gw"]["permutations"],
        density_null_draws=config["gw"]["density_null_draws"],
    log:
        P.log("seed{seed}/gw/round{round}/blocks"),
    benchmark:
        P.benchmark("seed{seed}/gw/round{round}/blocks")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/blocks.py"
