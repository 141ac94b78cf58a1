"""Rule tickets: the same-round view's DiLT tickets of one round from the K chains' masks,
their random controls (each with its reference ticket's per-layer counts), and the overlap
table; for ViTs (params.heads) also the overlap and ticket densities per block x head,
q/k/v/output projection and FFN module (dilt.vit_overlap)."""

import numpy as np
import pandas as pd

from dilt import evaluation, io, masks, methods, rule_job, vit_overlap
from dilt.overlap import overlap_rows
from dilt.seeding import job_seed


def main(smk, log):
    wc, parts, paths = smk.wildcards, smk.params.parts, list(smk.input.masks)
    chain_masks = [io.load_arrays(p) for p in paths]
    masks.check_compatible(chain_masks, paths)
    made = masks.tickets(chain_masks, parts)
    for name, path in zip(smk.params.references, smk.input.references, strict=True):
        made[name] = io.load_arrays(path)  # an IMP chain's mask a control copies counts from
        masks.check_compatible([chain_masks[0], made[name]], [paths[0], path])
    for name in smk.params.tickets:
        ticket = methods.parse(name)
        if ticket.method.kind == methods.CONTROL:
            rng = np.random.default_rng(job_seed(wc.seed, wc.round, name))
            made[name] = masks.random_like(made[ticket.reference], rng)
    for name, path in zip(smk.params.tickets, smk.output.tickets, strict=True):
        summary = evaluation.mask_summary(made[name])
        log(f"{name}: density {summary['density']:.4f}"
            + (f", empty layers {summary['empty_layers']}" if summary["empty_layers"] else ""))
        io.save_arrays(path, made[name])
    io.write_tsv(smk.output.overlap, pd.DataFrame(overlap_rows(chain_masks, made, parts)))
    if smk.params.heads:
        rows = vit_overlap.overlap_rows(chain_masks, made, parts, smk.params.heads)
        io.write_tsv(smk.output.vit_overlap, pd.DataFrame(rows))


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
