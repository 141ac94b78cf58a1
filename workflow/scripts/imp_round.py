"""Rule imp_round / imp_dense: prune the previous round, rewind, train under the mask."""

from dilt import imp, io, masks, methods, models, rewind, rule_job, train
from dilt.partitions import classes_of
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc, p = smk.wildcards, smk.params
    (train_feed, test_feed), manifest = rule_job.context(smk, log=log)
    model = rule_job.model_from(smk, manifest, smk.input.start)
    names = models.prunable_names(model, p.model)
    if int(wc.round) == 0:
        mask = imp.dense_mask(model, names)
    else:
        previous, trained = [], []
        for part in methods.round_sources(wc.method, wc.part, p.parts):
            path = smk.input[f"mask_{part}"]
            previous.append(io.load_tensors(path))
            train.check_mask(previous[-1], model, names, path)
            trained.append(io.load_tensors(smk.input[f"trained_{part}"]))
        head = f"{models.output_layer(p.model)}.weight"
        rates = {head: p.model["head_rate"]} if head in names else None
        mask = imp.round_mask(previous, trained, p.fraction, p.scope, rates)
    classes = classes_of(manifest, wc.part)
    log(f"{wc.method}/{wc.part} round {wc.round}: density {masks.density(mask):.4f}, "
        f"classes {classes or 'all'}, started from {smk.input.start}")
    keeps_rewind = "rewind" in smk.output.keys()
    keeper = rewind.RewindKeeper(p.rewind_step)
    # Rounds >= 1 start at the rewind point and continue its schedule (open_lth).
    start_step = 0 if keeps_rewind else p.rewind_step
    stats = train.train(model, mask, train_feed, p.train,
                        job_seed(wc.seed, wc.method, wc.part, wc.round), classes, log,
                        keeper if keeps_rewind else None, start_step=start_step,
                        **rule_job.training(smk))
    if keeps_rewind and not keeper.weights:
        raise io.DiltError(f"imp.rewind_step: {p.rewind_step} is not below the "
                           f"{stats['steps']} training steps of round 0")
    metrics = {
        "method": wc.method, "part": wc.part, "round": int(wc.round), "seed": int(wc.seed),
        "classes": classes, "density": masks.density(mask), "fraction": p.fraction,
        "rewind_step": p.rewind_step, "layer_density": imp.layer_density(mask),
        "test_acc": train.evaluate(model, test_feed, classes),
        "pruned_nonzero": imp.pruned_nonzero(model, mask), **stats,
    }
    log(f"test accuracy {metrics['test_acc']:.4f}")
    io.save_tensors(smk.output.mask, mask)
    io.save_tensors(smk.output.trained, model.state_dict())
    if keeps_rewind:
        io.save_tensors(smk.output.rewind, keeper.weights)
    io.write_json(smk.output.metrics, metrics)
    rule_job.finished(smk)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
