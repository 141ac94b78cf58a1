"""What training-type jobs share: the data feeds, the partitions, theta0 and per-job seeds."""

from . import devices, io, models, train
from .feeds import open_feeds
from .partitions import load_manifest


def context(smk, train=True):
    """(train feed, test feed) on the job's device (params.device), and the manifest; the
    train feed is None unless `train`. Disk datasets are read by params.workers DataLoader
    processes (null: the job's threads)."""
    manifest = load_manifest(smk.input.partitions)
    device = devices.select(smk.params.device)
    workers = smk.threads if smk.params.workers is None else smk.params.workers
    return open_feeds(manifest, smk.input.data, device, workers, train), manifest


def model_from(smk, manifest, weights_path):
    """The configured architecture with the weights of `weights_path` loaded."""
    model = models.build(smk.params.model, manifest["input_shape"], manifest["num_classes"])
    models.load_weights(model, io.load_tensors(weights_path), weights_path)
    return model


def part_classes(manifest, part):
    """Class ids of a partition name ('full' means all classes -> None)."""
    if part == "full":
        return None
    for p in manifest["partitions"]:
        if p["name"] == part:
            return p["classes"]
    raise io.DiltError(f"partitions.json: no partition named '{part}'")


def evaluation(model, test_feed, manifest):
    """Test accuracy on all classes, per partition (acc_{name}) and per class, and chance."""
    pred, y_test = train.predict(model, test_feed)
    correct = pred == y_test
    result = {"acc_all": float(correct.float().mean()),
              "per_class": {str(c): float(correct[y_test == c].float().mean())
                            for c in range(manifest["num_classes"])},
              "chance": 1.0 / manifest["num_classes"]}
    for part in manifest["partitions"]:
        in_part = sum(y_test == c for c in part["classes"]).bool()
        result[f"acc_{part['name']}"] = float(correct[in_part].float().mean())
    return result
