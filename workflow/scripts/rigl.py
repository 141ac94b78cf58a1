"""Rule rigl: dynamic sparse training from theta0 at one target sparsity; evaluated like a
retrained ticket."""

import numpy as np
import torch

from dilt import evaluation, io, masks, models, rigl, rule_job, train, vit_structure
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc, cfg = smk.wildcards, smk.params.rigl
    (train_feed, test_feed), manifest = rule_job.context(smk, log=log)
    model = rule_job.model_from(smk, manifest, smk.input.init)
    params = dict(model.named_parameters())
    shapes = {n: tuple(params[n].shape) for n in models.prunable_names(model, smk.params.model)}
    point = f"sparsity{wc.sparsity}"
    counts = rigl.layer_counts(shapes, cfg["distribution"], 1.0 - float(wc.sparsity))
    rng = np.random.default_rng(job_seed(wc.seed, "rigl", point))
    mask = {n: torch.from_numpy(m) for n, m in masks.random_counts(shapes, counts, rng).items()}
    total = train.total_steps(len(train_feed), smk.params.train)
    hook = rigl.RigL(cfg["alpha"], cfg["update_every"], round(cfg["end"] * total))
    log(f"rigl at {point}: density {masks.density(mask):.4f} ({cfg['distribution']}), "
        f"updates every {cfg['update_every']} of {total} steps until {hook.end}")
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, "retrain", "rigl", point), None, log, hook,
                        **rule_job.training(smk))
    final = {n: m.bool().cpu() for n, m in hook.masks.items()}
    result = {"ticket": "rigl", "view": "matched", "round": None,
              "target_sparsity": float(wc.sparsity), "seed": int(wc.seed),
              "init_seed": int(wc.seed), **evaluation.mask_summary(final),
              **vit_structure.flops_summary(model, final),
              "rigl_updates": hook.updates, "rigl_regrown": hook.regrown,
              **evaluation.split_accuracies(model, test_feed, manifest), **stats}
    log(f"{hook.updates} updates, {hook.regrown} weights regrown; "
        f"test accuracy {result['acc_all']:.4f}")
    io.save_tensors(smk.output.mask, final)
    io.write_json(smk.output.result, result)
    rule_job.finished(smk)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
