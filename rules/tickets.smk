rule tickets:
    """Core, union, specialist and random-control tickets of one round, and the overlap table."""
    localrule: True
    input:
        masks=[P.imp("mask.safetensors", "dilt", p) for p in PARTS],
    output:
        tickets=[P.ticket(t) for t in DERIVED_TICKETS],
        overlap=P.overlap(),
    params:
        parts=PARTS,
        tickets=DERIVED_TICKETS,
    log:
        P.log("seed{seed}/tickets/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/tickets/round{round}")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tickets.py"
