"""Rule random_masks: random baselines at the compared densities, one mask per round: with
the per-layer counts of a reference ticket (params.reference), or uniform over all weights."""

import numpy as np

from dilt import io, masks, models, rule_job, train
from dilt.partitions import load_manifest
from dilt.seeding import job_seed


def main(smk, log):
    wc = smk.wildcards
    model = rule_job.model_from(smk, load_manifest(smk.input.partitions), smk.input.init)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, smk.params.model)}
    references = list(smk.input.get("reference", []))
    for i, (rnd, density, path) in enumerate(zip(smk.params.rounds, smk.params.densities,
                                                  smk.output, strict=True)):
        rng = np.random.default_rng(job_seed(wc.seed, wc.kind, rnd))
        if smk.params.reference:
            reference = io.load_arrays(references[i])
            train.check_mask(reference, model, list(shapes), references[i])
            mask = masks.random_like(reference, rng)
        else:
            mask = masks.random_global(shapes, density, rng)
        log(f"round {rnd}: target density {density:.4f}, real {masks.density(mask):.4f}")
        io.save_arrays(path, mask)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
