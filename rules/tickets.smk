rule tickets:
    """Same-round view: core, union, specialist tickets and their random controls of one
    round, and the overlap table of the DiLT chains."""
    localrule: True
    input:
        masks=[P.imp("mask.safetensors", "dilt", p) for p in PARTS],
        lth=P.imp("mask.safetensors", "lth", "full") if "random_lth" in ROUND_MADE else [],
    output:
        tickets=[P.ticket(t) for t in ROUND_MADE],
        overlap=P.overlap(),
    params:
        parts=PARTS,
        tickets=ROUND_MADE,
    log:
        P.log("seed{seed}/tickets/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/tickets/round{round}")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tickets.py"
