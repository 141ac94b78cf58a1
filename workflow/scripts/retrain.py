"""Rule retrain: train one ticket from theta0 on all classes; accuracy overall and per split.

A ticket named reinit_X trains X's mask from another seed's initialisation instead (the
random re-initialisation control of the lottery ticket hypothesis).
"""

from dilt import evaluation, io, masks, methods, models, rule_job, train
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc = smk.wildcards
    (train_feed, test_feed), manifest = rule_job.context(smk)
    ticket = methods.parse(wc.ticket)
    init_seed = int(wc.seed)
    if ticket.reinit:
        init_seed = job_seed(wc.seed, "reinit")
        model = models.init_model(smk.params.model, manifest["input_shape"],
                                  manifest["num_classes"], init_seed)
    else:
        model = rule_job.model_from(smk, manifest, smk.input.init)
    names = models.prunable_names(model, smk.params.model)
    mask = None
    if smk.input.mask:
        mask = {n: m.bool() for n, m in io.load_tensors(smk.input.mask).items()}
        train.check_mask(mask, model, names, smk.input.mask)
    density = masks.density(mask) if mask else 1.0
    log(f"ticket {wc.ticket} round {wc.round}: density {density:.4f}")
    # A re-initialised ticket sees the same batches as the ticket itself.
    order_seed = job_seed(wc.seed, "retrain", ticket.mask_ticket, wc.round)
    stats = train.train(model, mask, train_feed, smk.params.train, order_seed, None, log)
    result = {"ticket": wc.ticket, "round": int(wc.round), "seed": int(wc.seed),
              "density": density, "init_seed": init_seed,
              **evaluation.split_accuracies(model, test_feed, manifest), **stats}
    log(f"test accuracy {result['acc_all']:.4f}")
    io.write_json(smk.output[0], result)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
