"""Rule tickets: DiLT tickets of one round from the K chains' masks, and the overlap table."""

from pathlib import Path

import numpy as np
import pandas as pd

from dilt import io, masks
from dilt.script import run
from dilt.seeding import job_seed


def overlap_rows(chain_masks, tickets, parts):
    """Per mask key, per enclosing module (masks.module_groups: residual/transformer blocks)
    and 'all': size, chain densities, Jaccard vs chance, core/union density."""
    layers = {k: [k] for k in sorted(chain_masks[0])}
    layers.update(masks.module_groups(sorted(chain_masks[0])))
    layers["all"] = sorted(chain_masks[0])
    rows = []
    for layer, keys in layers.items():
        flat = [np.concatenate([m[k].ravel() for k in keys]).astype(bool) for m in chain_masks]
        dens = [float(f.mean()) for f in flat]
        chance = [masks.chance_jaccard(a, b) for i, a in enumerate(dens) for b in dens[i + 1:]]
        row = {"layer": layer, "params": flat[0].size}
        row.update({f"density_{p}": d for p, d in zip(parts, dens, strict=True)})
        row.update({
            "jaccard": masks.mean_pairwise_jaccard(flat),
            "chance_jaccard": float(np.mean(chance)),
            "core_density": masks.density({k: tickets["core"][k] for k in keys}),
            "union_density": masks.density({k: tickets["union"][k] for k in keys}),
        })
        rows.append(row)
    return rows


def main(smk, log):
    parts, paths = smk.params.parts, list(smk.input.masks)
    chain_masks = [io.load_arrays(p) for p in paths]
    masks.check_compatible(chain_masks, paths)
    tickets = masks.tickets(chain_masks, parts)
    rng = np.random.default_rng(job_seed(smk.wildcards.seed, smk.wildcards.round, "random"))
    tickets["random"] = masks.random_like(tickets["union"], rng)
    for path in smk.output.tickets:
        name = Path(path).name.removesuffix(".safetensors")
        log(f"{name}: density {masks.density(tickets[name]):.4f}")
        io.save_arrays(path, tickets[name])
    io.write_tsv(smk.output.overlap, pd.DataFrame(overlap_rows(chain_masks, tickets, parts)))


run(main, snakemake)  # noqa: F821
