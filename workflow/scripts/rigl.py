"""Rule rigl: dynamic sparse training from theta0 at one density; evaluated like a ticket."""

import numpy as np
import torch

from dilt import evaluation, io, masks, models, rigl, rule_job, train
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc, cfg = smk.wildcards, smk.params.rigl
    (train_feed, test_feed), manifest = rule_job.context(smk)
    model = rule_job.model_from(smk, manifest, smk.input.init)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, smk.params.model)}
    counts = rigl.layer_counts(shapes, cfg["distribution"], smk.params.density)
    rng = np.random.default_rng(job_seed(wc.seed, "rigl", wc.round))
    mask = {n: torch.from_numpy(m) for n, m in masks.random_counts(shapes, counts, rng).items()}
    total = train.total_steps(len(train_feed), smk.params.train)
    hook = rigl.RigL(cfg["alpha"], cfg["update_every"], round(cfg["end"] * total))
    log(f"rigl round {wc.round}: density {masks.density(mask):.4f} ({cfg['distribution']}), "
        f"updates every {cfg['update_every']} of {total} steps until {hook.end}")
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, "retrain", "rigl", wc.round), None, log, hook)
    final = {n: m.bool().cpu() for n, m in hook.masks.items()}
    result = {"ticket": "rigl", "round": int(wc.round), "seed": int(wc.seed),
              "density": masks.density(final), "init_seed": int(wc.seed),
              "rigl_updates": hook.updates, "rigl_regrown": hook.regrown,
              **evaluation.split_accuracies(model, test_feed, manifest), **stats}
    log(f"{hook.updates} updates, {hook.regrown} weights regrown; "
        f"test accuracy {result['acc_all']:.4f}")
    io.save_tensors(smk.output.mask, final)
    io.write_json(smk.output.result, result)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
