rule distances:
    """Probe-set pairwise-distance matrix of every representation layer of one DiLT chain."""
    input:
        trained=imp_file("dilt", "{part}", "{round}", "trained.safetensors"),
        data=f"{OUT}/data.safetensors",
        partitions=f"{OUT}/partitions.json",
    output:
        f"{OUT}/seed{{seed}}/gw/round{{round}}/distances_{{part}}.npz",
    params:
        model=config["model"],
        probe=config["probe"],
        device=config["device"],
        workers=config["workers"],
    threads: TRAIN_THREADS
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        f"logs/{EXP}/seed{{seed}}/gw/round{{round}}/distances_{{part}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/gw/round{{round}}/distances_{{part}}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow/scripts/distances.py"


rule gw:
    """Gromov-Wasserstein distance between every pair of layers of all K chains."""
    input:
        expand(f"{OUT}/seed{{{{seed}}}}/gw/round{{{{round}}}}/distances_{{part}}.npz", part=PARTS),
    output:
        f"{OUT}/seed{{seed}}/gw/round{{round}}/gw.tsv",
    params:
        parts=PARTS,
    threads: 8  # capped at --cores locally; on a cluster: --set-threads gw=N
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        f"logs/{EXP}/seed{{seed}}/gw/round{{round}}/gw.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/gw/round{{round}}/gw.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/gw.py"


rule clusters:
    """Spectral clustering of all layers on a heat-kernel similarity of their GW distances."""
    localrule: True
    input:
        f"{OUT}/seed{{seed}}/gw/round{{round}}/gw.tsv",
    output:
        f"{OUT}/seed{{seed}}/gw/round{{round}}/clusters.tsv",
    params:
        n_clusters=config["gw"]["n_clusters"],
        max_clusters=config["gw"]["max_clusters"],
    log:
        f"logs/{EXP}/seed{{seed}}/gw/round{{round}}/clusters.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/gw/round{{round}}/clusters.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/clusters.py"


rule blocks:
    """Per functional block: mean mask Jaccard vs mean same-layer GW, and their correlation."""
    localrule: True
    input:
        gw=f"{OUT}/seed{{seed}}/gw/round{{round}}/gw.tsv",
        clusters=f"{OUT}/seed{{seed}}/gw/round{{round}}/clusters.tsv",
        overlap=f"{OUT}/seed{{seed}}/tickets/round{{round}}/overlap.tsv",
    output:
        blocks=f"{OUT}/seed{{seed}}/gw/round{{round}}/blocks.tsv",
        correlation=f"{OUT}/seed{{seed}}/gw/round{{round}}/correlation.json",
    params:
        parts=PARTS,
        permutations=config["gw"]["permutations"],
    log:
        f"logs/{EXP}/seed{{seed}}/gw/round{{round}}/blocks.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/gw/round{{round}}/blocks.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/blocks.py"
