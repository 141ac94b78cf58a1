"""Rule imp_round: prune the previous round's weights, rewind to theta0, train under the mask."""

import torch

from dilt import io, jobs, masks, models, pruning, train
from dilt.script import run, threads
from dilt.seeding import job_seed


def round_mask(smk, model, names):
    """mask_r from round r-1: own chain (dilt, lth) or the AND over all chains (colt)."""
    if int(smk.wildcards.round) == 0:
        return {n: torch.ones_like(p, dtype=torch.bool)
                for n, p in model.named_parameters() if n in names}
    imp = smk.params.imp
    sources = smk.params.parts if smk.wildcards.method == "colt" else [smk.wildcards.part]
    pruned = []
    for p in sources:
        path = smk.input[f"mask_{p}"]
        prev = io.load_tensors(path)
        train.check_mask(prev, model, names, path)
        weights = io.load_tensors(smk.input[f"trained_{p}"])
        pruned.append(pruning.magnitude_prune(weights, prev, imp["fraction"], imp["scope"]))
    shared = pruned[0]
    for other in pruned[1:]:
        shared = {n: shared[n] & other[n] for n in names}
    return shared


def main(smk, log):
    threads(smk)
    wc = smk.wildcards
    (train_feed, test_feed), manifest = jobs.context(smk)
    model = jobs.model_from(smk, manifest, smk.input.init)
    names = models.prunable_names(model, smk.params.model)
    mask = round_mask(smk, model, names)
    classes = jobs.part_classes(manifest, wc.part)
    log(f"{wc.method}/{wc.part} round {wc.round}: density {masks.density(mask):.4f}, "
        f"classes {classes or 'all'}")
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, wc.method, wc.part, wc.round), classes, log)
    params = dict(model.named_parameters())
    metrics = {
        "method": wc.method, "part": wc.part, "round": int(wc.round), "seed": int(wc.seed),
        "classes": classes, "density": masks.density(mask),
        "layer_density": {n: float(mask[n].float().mean()) for n in names},
        "test_acc": train.evaluate(model, test_feed, classes),
        "pruned_nonzero": int(sum(int((params[n].detach().cpu()[~mask[n]] != 0).sum())
                                  for n in names)),
        **stats,
    }
    log(f"test accuracy {metrics['test_acc']:.4f}")
    io.save_tensors(smk.output.mask, mask)
    io.save_tensors(smk.output.trained, model.state_dict())
    io.write_json(smk.output.metrics, metrics)


run(main, snakemake)  # noqa: F821
