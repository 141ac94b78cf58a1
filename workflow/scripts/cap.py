"""Rule cap: CAP (dilt.cap) of LTH's trained round 0, gradually through every target density
with fine-tuning (train.*, baselines.cap.schedule.epochs, no warm-up) after each step. Per
target: the mask, the pruned network's weights (retraining starts from them) and a record of
where they come from, their density, fine-tuning steps, test accuracy and (ViTs) FLOPs."""

from dataclasses import asdict

from dilt import cap, imp, masks, models, rule_job, train, vit_structure
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    p, wc = smk.params, smk.wildcards
    settings = cap.settings(p.cap)
    (train_feed, test_feed), manifest = rule_job.context(smk, log=log)
    model = rule_job.model_from(smk, manifest, smk.input.start)
    mask = imp.dense_mask(model, models.prunable_names(model, p.model))
    tune = {**p.train, "warmup_epochs": 0}
    per_step = train.total_steps(len(train_feed), {**tune, "epochs": settings.epochs})
    log(f"CAP from {smk.input.start}: block {settings.block_size}, {settings.num_grads} "
        f"gradients, damp {settings.damp}, {settings.steps} steps per target, "
        f"{settings.epochs} epochs ({per_step} steps) of fine-tuning after each")
    found = cap.gradual(model, mask, train_feed, [1.0 - s for s in p.sparsities], settings,
                        tune, job_seed(wc.seed, "cap"), log)
    by_density = {density: (m, state) for density, m, state in found}
    for i, sparsity in enumerate(p.sparsities):  # ascending: the job reaches them in order
        mask, state = by_density[1.0 - sparsity]
        model.load_state_dict(state)
        record = {"method": "cap", "seed": int(wc.seed), "target_sparsity": sparsity,
                  "start_weights": smk.input.start, "density": masks.density(mask),
                  "train_steps": (i + 1) * settings.steps * per_step,
                  "test_acc": train.evaluate(model, test_feed), "settings": asdict(settings),
                  **vit_structure.flops_summary(model, mask)}
        log(f"sparsity {sparsity}: real {1 - record['density']:.4f}, test accuracy before "
            f"retraining {record['test_acc']:.4f}")
        rule_job.write_pruned(smk, i, mask, state, record)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
