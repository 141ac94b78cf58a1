"""Rule imp_round / imp_dense: prune the previous round, rewind, train under the mask."""

import torch

from dilt import io, jobs, masks, models, pruning, train
from dilt.script import run, threads
from dilt.seeding import job_seed


def round_mask(smk, model, names):
    """mask_r from round r-1: own chain (dilt, lth) or COLT's AND over all chains."""
    if int(smk.wildcards.round) == 0:
        return {n: torch.ones_like(p, dtype=torch.bool)
                for n, p in model.named_parameters() if n in names}
    p = smk.params
    sources = p.parts if smk.wildcards.method == "colt" else [smk.wildcards.part]
    weights, previous = [], []
    for part in sources:
        path = smk.input[f"mask_{part}"]
        previous.append(io.load_tensors(path))
        train.check_mask(previous[-1], model, names, path)
        weights.append(io.load_tensors(smk.input[f"trained_{part}"]))
    return pruning.colt_prune(weights, previous, p.fraction, p.scope)


def rewind_keeper(step):
    """A training hook that copies the weights (to the CPU) after `step` optimizer steps."""
    kept = {}

    def hook(current, model, _masks, _opt):
        if current == step:
            kept.update({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})

    return kept, hook


def main(smk, log):
    threads(smk)
    wc = smk.wildcards
    (train_feed, test_feed), manifest = jobs.context(smk)
    model = jobs.model_from(smk, manifest, smk.input.start)
    names = models.prunable_names(model, smk.params.model)
    mask = round_mask(smk, model, names)
    classes = jobs.part_classes(manifest, wc.part)
    log(f"{wc.method}/{wc.part} round {wc.round}: density {masks.density(mask):.4f}, "
        f"classes {classes or 'all'}, started from {smk.input.start}")
    keeps_rewind = "rewind" in smk.output.keys()
    rewind, hook = rewind_keeper(smk.params.rewind_step)
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, wc.method, wc.part, wc.round), classes, log,
                        hook if keeps_rewind else None)
    if keeps_rewind and not rewind:
        raise io.DiltError(f"imp.rewind_step: {smk.params.rewind_step} is not below the "
                           f"{stats['steps']} training steps of round 0")
    params = dict(model.named_parameters())
    metrics = {
        "method": wc.method, "part": wc.part, "round": int(wc.round), "seed": int(wc.seed),
        "classes": classes, "density": masks.density(mask), "fraction": smk.params.fraction,
        "rewind_step": smk.params.rewind_step,
        "layer_density": {n: float(mask[n].float().mean()) for n in names},
        "test_acc": train.evaluate(model, test_feed, classes),
        "pruned_nonzero": int(sum(int((params[n].detach().cpu()[~mask[n]] != 0).sum())
                                  for n in names)),
        **stats,
    }
    log(f"test accuracy {metrics['test_acc']:.4f}")
    io.save_tensors(smk.output.mask, mask)
    io.save_tensors(smk.output.trained, model.state_dict())
    if keeps_rewind:
        io.save_tensors(smk.output.rewind, rewind)
    io.write_json(smk.output.metrics, metrics)


run(main, snakemake)  # noqa: F821
