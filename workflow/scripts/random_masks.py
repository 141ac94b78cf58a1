"""Rule random_masks: random masks uniform over all prunable weights, one per target
sparsity (the random_global baseline; controls with a ticket's per-layer counts are made
with that ticket)."""

import numpy as np

from dilt import io, masks, models, rule_job
from dilt.partitions import load_manifest
from dilt.seeding import job_seed


def main(smk, log):
    wc = smk.wildcards
    model = rule_job.model_from(smk, load_manifest(smk.input.partitions), smk.input.init)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, smk.params.model)}
    for sparsity, path in zip(smk.params.sparsities, smk.output, strict=True):
        rng = np.random.default_rng(job_seed(wc.seed, wc.kind, f"sparsity{sparsity}"))
        mask = masks.random_global(shapes, 1.0 - sparsity, rng)
        log(f"sparsity {sparsity}: real {1 - masks.density(mask):.4f}")
        io.save_arrays(path, mask)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
