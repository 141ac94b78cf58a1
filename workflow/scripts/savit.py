"""Rule savit: SAViT (dilt.savit) of LTH's trained round 0, one structured mask per target
density (budget: prunable weights). Per target: the mask, the trained weights under it
(retraining starts from them) and a record of where they come from, the density, the FLOPs
and FLOPs reduction, the units removed and the test accuracy before retraining."""

from dilt import devices, models, rule_job, savit, train
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    p, wc = smk.params, smk.wildcards
    (train_feed, test_feed), manifest = rule_job.context(smk, augment=False, log=log)
    model = devices.prepare(rule_job.model_from(smk, manifest, smk.input.start),
                            train_feed.device)
    names = models.prunable_names(model, p.model)
    trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
    log(f"SAViT from {smk.input.start}: {p.savit}")
    found = savit.savit_masks(model, names, train_feed, p.savit, job_seed(wc.seed, "savit"),
                              "params", [1.0 - s for s in p.sparsities])
    for i, (sparsity, (mask, info)) in enumerate(zip(p.sparsities, found, strict=True)):
        weights = {**trained, **{n: trained[n] * mask[n].to(trained[n].device) for n in mask}}
        model.load_state_dict(weights)
        record = {"method": "savit", "seed": int(wc.seed), "target_sparsity": sparsity,
                  "start_weights": smk.input.start, **info,
                  "test_acc": train.evaluate(model, test_feed)}
        log(f"sparsity {sparsity}: real {record['sparsity']:.4f}, FLOPs reduction "
            f"{record['flops_reduction']:.4f}, removed {record['removed']}, test accuracy "
            f"before retraining {record['test_acc']:.4f}")
        rule_job.write_pruned(smk, i, mask, weights, record)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
