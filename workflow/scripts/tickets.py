"""Rule tickets: DiLT tickets of one round from the K chains' masks, and the overlap table."""

import numpy as np
import pandas as pd

from dilt import io, masks, rule_job
from dilt.overlap import overlap_rows
from dilt.seeding import job_seed


def main(smk, log):
    parts, paths = smk.params.parts, list(smk.input.masks)
    chain_masks = [io.load_arrays(p) for p in paths]
    masks.check_compatible(chain_masks, paths)
    tickets = masks.tickets(chain_masks, parts)
    rng = np.random.default_rng(job_seed(smk.wildcards.seed, smk.wildcards.round, "random"))
    tickets["random"] = masks.random_like(tickets["union"], rng)
    for name, path in zip(smk.params.tickets, smk.output.tickets, strict=True):
        log(f"{name}: density {masks.density(tickets[name]):.4f}")
        io.save_arrays(path, tickets[name])
    io.write_tsv(smk.output.overlap, pd.DataFrame(overlap_rows(chain_masks, tickets, parts)))


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
