"""Rule retrain: train one ticket from theta0 on all classes; accuracy overall and per split."""

from dilt import io, jobs, masks, models, train
from dilt.script import run, threads
from dilt.seeding import job_seed


def main(smk, log):
    threads(smk)
    wc = smk.wildcards
    (train_feed, test_feed), manifest = jobs.context(smk)
    model = jobs.model_from(smk, manifest, smk.input.init)
    names = models.prunable_names(model, smk.params.model)
    mask = None
    if smk.input.mask:
        mask = {n: m.bool() for n, m in io.load_tensors(smk.input.mask).items()}
        train.check_mask(mask, model, names, smk.input.mask)
    density = masks.density(mask) if mask else 1.0
    log(f"ticket {wc.ticket} round {wc.round}: density {density:.4f}")
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, "retrain", wc.ticket, wc.round), None, log)
    pred, y_test = train.predict(model, test_feed)
    correct = pred == y_test
    per_class = {str(c): float(correct[y_test == c].float().mean())
                 for c in range(manifest["num_classes"])}
    result = {"ticket": wc.ticket, "round": int(wc.round), "seed": int(wc.seed),
              "density": density, "acc_all": float(correct.float().mean()),
              "per_class": per_class, "chance": 1.0 / manifest["num_classes"], **stats}
    for part in manifest["partitions"]:
        in_part = sum(y_test == c for c in part["classes"]).bool()
        result[f"acc_{part['name']}"] = float(correct[in_part].float().mean())
    log(f"test accuracy {result['acc_all']:.4f}")
    io.write_json(smk.output[0], result)


run(main, snakemake)  # noqa: F821
