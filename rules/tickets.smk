rule tickets:
    """Same-round view: core, union, specialist tickets and their random controls of one
    round, and the overlap table of the DiLT chains (ViTs: also per block x head, projection
    and FFN module)."""
    localrule: True
    input:
        masks=[P.imp("mask.safetensors", "dilt", p) for p in PARTS],
        references=lambda wc: [
            mask_of(t, (ROUND, int(wc.round)), wc.seed) for t in ROUND_REFERENCES
        ],
    output:
        **({"vit_overlap": P.vit_overlap()} if VIT_HEADS else {}),
        tickets=[P.ticket(t) for t in ROUND_MADE],
        overlap=P.overlap(),
    params:
        parts=PARTS,
        tickets=ROUND_MADE,
        references=ROUND_REFERENCES,
        heads=VIT_HEADS,
    log:
        P.log("seed{seed}/tickets/round{round}"),
    benchmark:
        P.benchmark("seed{seed}/tickets/round{round}")
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tickets.py"
