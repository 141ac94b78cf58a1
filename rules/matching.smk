# The matched view: every IMP-derived ticket (and its random control) at each target sparsity
# of retrain.sparsities, trimmed from the sparsest IMP round at or above it (dilt.matching).
# Which tickets reach a target is known only once the chains have run, so this is a
# checkpoint: the retrain jobs of the matched view are planned from its matching.tsv.


checkpoint match:
    """Matched masks of every IMP-derived ticket and control of one seed, and their records."""
    input:
        unpack(
            lambda wc: {
                f"{name}_{m}": [f for r in rounds for f in r]
                for name in ("mask", "trained")
                for m, rounds in chain_files(
                    f"{name}.safetensors", range(LAST + 1), wc.seed
                ).items()
            }
        ),
    output:
        directory(P.matching()),
    params:
        tickets=MATCH_MADE,
        targets=TARGETS,
        rounds=LAST + 1,
        parts=PARTS,
        scope=config["imp"]["scope"],
    threads: job_threads("match")
    resources:
        **job_resources("match"),
    retries: job_retries("match")
    log:
        P.log("seed{seed}/match"),
    benchmark:
        P.benchmark("seed{seed}/match")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/match.py"
