"""Rules retrain / retrain_matched: train one ticket on all classes from its start weights
(theta0, or a rewind point continuing the schedule from params.start_step); accuracy overall,
per partition and per class.

A ticket named reinit_X trains X's mask from another seed's initialisation instead (the
random re-initialisation control of the lottery ticket hypothesis). A baseline whose method
writes weights (CAP, SAViT) starts from its pruned weights (input start). ViTs also record
the FLOPs of one image's forward pass under the mask.
"""

from dilt import evaluation, io, methods, models, rule_job, train, vit_structure
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc, p = smk.wildcards, smk.params
    (train_feed, test_feed), manifest = rule_job.context(smk, log=log)
    ticket = methods.parse(wc.ticket)
    init_seed = int(wc.seed)
    if ticket.reinit:
        init_seed = job_seed(wc.seed, "reinit")
        model = models.init_model(p.model, manifest["input_shape"], manifest["num_classes"],
                                  init_seed)
    else:
        model = rule_job.model_from(smk, manifest, smk.input.start)
    mask = None
    if smk.input.mask:
        mask = {n: m.bool() for n, m in io.load_tensors(smk.input.mask).items()}
        train.check_mask(mask, model, models.prunable_names(model, p.model), smk.input.mask)
    summary = {**evaluation.mask_summary(mask), **vit_structure.flops_summary(model, mask)}
    log(f"ticket {wc.ticket} at {p.point}: density {summary['density']:.4f}, start "
        f"{smk.input.start} at step {p.start_step}"
        + (f"; empty layers {summary['empty_layers']}" if summary["empty_layers"] else ""))
    # A re-initialised ticket sees the same batches as the ticket itself.
    order_seed = job_seed(wc.seed, "retrain", ticket.mask_ticket, p.point)
    stats = train.train(model, mask, train_feed, p.train, order_seed, None, log,
                        start_step=p.start_step, **rule_job.training(smk))
    result = {"ticket": wc.ticket, **p.identity, "seed": int(wc.seed), "init_seed": init_seed,
              **summary, **evaluation.split_accuracies(model, test_feed, manifest), **stats}
    log(f"test accuracy {result['acc_all']:.4f}")
    io.write_json(smk.output[0], result)
    rule_job.finished(smk)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
