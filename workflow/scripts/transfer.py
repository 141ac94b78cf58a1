"""Rule transfer: a source ticket on a fresh initialisation (another seed, new output layer)
trained and tested on the transfer target."""

from dilt import io, masks, models, rule_job, train
from dilt.batches import TensorFeed
from dilt.datasets import load_split
from dilt.seeding import job_seed


def main(smk, log):
    rule_job.threads(smk)
    wc = smk.wildcards
    x_train, y_train, x_test, y_test = load_split(smk.input.data)
    device = rule_job.device(smk, log)
    train_feed, test_feed = TensorFeed(x_train, y_train, device), TensorFeed(x_test, y_test, device)
    info = io.read_json(smk.input.info)
    init_seed = job_seed(wc.seed, "transfer", wc.target)
    model = models.init_model(smk.params.model, info["input_shape"], info["num_classes"],
                              init_seed)
    mask = None
    if smk.input.mask:
        mask = {n: m.bool() for n, m in io.load_tensors(smk.input.mask).items()}
        train.check_mask(mask, model, models.prunable_names(model, smk.params.model),
                         smk.input.mask)
    density = masks.density(mask) if mask else 1.0
    log(f"{wc.ticket} round {wc.round} -> {wc.target}: density {density:.4f}, "
        f"init seed {init_seed}")
    # Every ticket (and the dense network) of a seed: same fresh weights, same batches.
    stats = train.train(model, mask, train_feed, smk.params.train,
                        job_seed(wc.seed, "transfer", wc.target, "order"), None, log,
                        **rule_job.training(smk))
    pred, labels = train.predict(model, test_feed)
    result = {"target": wc.target, "ticket": wc.ticket, "round": int(wc.round),
              "seed": int(wc.seed), "init_seed": init_seed, "density": density,
              "acc": float((pred == labels).float().mean()),
              "chance": 1.0 / info["num_classes"], **stats}
    log(f"target test accuracy {result['acc']:.4f}")
    io.write_json(smk.output[0], result)
    rule_job.finished(smk)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
