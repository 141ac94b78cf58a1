"""Rule saliency_masks: saliency scores (params.score, a dilt.saliency function: SNIP, GraSP)
at theta0 on the full training set; one mask per compared density, keeping the highest
scores (or, with params.removes_highest, removing them)."""

import torch
from torch import nn

from dilt import devices, io, masks, models, pruning, rule_job, saliency


def main(smk, log):
    rule_job.threads(smk)
    (train_feed, _), manifest = rule_job.context(smk)
    model = devices.prepare(rule_job.model_from(smk, manifest, smk.input.init), train_feed.device)
    names = models.prunable_names(model, smk.params.model)
    # Gradient flow over every weight matrix the network trains (head included); scores are
    # kept for the prunable ones only.
    weights = {n: p for n, p in model.named_parameters() if p.dim() > 1}
    loss_fn = nn.CrossEntropyLoss(reduction="sum")

    def losses():
        for x, y in train_feed.batches(smk.params.batch_size):
            yield loss_fn(model(devices.to_input(x)), y) / len(train_feed)

    score_fn = getattr(saliency, smk.params.score)
    scores = {n: s.cpu() for n, s in score_fn(losses, weights).items() if n in names}
    if smk.params.removes_highest:
        scores = {n: -s for n, s in scores.items()}
    total = sum(s.numel() for s in scores.values())
    for rnd, density, path in zip(smk.params.rounds, smk.params.densities, smk.output,
                                  strict=True):
        mask = pruning.keep_top(scores, round(density * total))
        log(f"round {rnd}: target density {density:.4f}, real {masks.density(mask):.4f}, "
            + ", ".join(f"{n} {float(m.float().mean()):.3f}" for n, m in mask.items()))
        io.save_tensors(path, {n: m.to(torch.bool) for n, m in mask.items()})


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
