rule tickets:
    """Core, union, specialist and random-control tickets of one round, and the overlap table."""
    localrule: True
    input:
        masks=expand(imp_file("dilt", "{part}", "{{round}}", "mask.safetensors", "{{seed}}"),
                     part=PARTS),
    output:
        tickets=expand(f"{OUT}/seed{{{{seed}}}}/tickets/round{{{{round}}}}/{{t}}.safetensors",
                       t=TICKET_FILES),
        overlap=f"{OUT}/seed{{seed}}/tickets/round{{round}}/overlap.tsv",
    params:
        parts=PARTS,
    log:
        f"logs/{EXP}/seed{{seed}}/tickets/round{{round}}.log",
    benchmark:
        f"benchmarks/{EXP}/seed{{seed}}/tickets/round{{round}}.tsv"
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tickets.py"
