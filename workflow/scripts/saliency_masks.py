"""Rule saliency_masks: saliency scores (params.score: snip or grasp, dilt.saliency) at
theta0 on a fixed, shuffled, class-balanced sample of the training split with deterministic
transforms; one mask per target sparsity, keeping the highest scores."""

from dilt import devices, io, masks, models, pruning, rule_job, saliency
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    p, wc = smk.params, smk.wildcards
    (train_feed, _), manifest = rule_job.context(smk, augment=False, log=log)
    model = devices.prepare(rule_job.model_from(smk, manifest, smk.input.init), train_feed.device)
    names = models.prunable_names(model, p.model)
    indices = saliency.balanced_indices(train_feed.labels, p.saliency["per_class"],
                                        job_seed(wc.seed, wc.kind, "sample"))
    x, y = saliency.materialise(train_feed, indices, p.batch_size)
    # Gradient flow over every weight matrix the network trains (head included); scores are
    # kept for the prunable ones only.
    weights = {n: w for n, w in model.named_parameters() if w.dim() > 1}
    scores = saliency.keep_scores(p.score, model, weights, x, y, p.batch_size,
                                  p.saliency["temperature"], p.saliency["batchnorm"])
    scores = {n: s.cpu() for n, s in scores.items() if n in names}
    total = sum(s.numel() for s in scores.values())
    log(f"{p.score} on {len(y)} examples ({len(y) // manifest['num_classes']} per class)")
    for sparsity, path in zip(p.sparsities, smk.output, strict=True):
        mask = pruning.keep_top(scores, round((1.0 - sparsity) * total))
        log(f"sparsity {sparsity}: real {1 - masks.density(mask):.4f}, "
            + ", ".join(f"{n} {float(m.float().mean()):.3f}" for n, m in mask.items()))
        io.save_tensors(path, {n: m.bool() for n, m in mask.items()})


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
