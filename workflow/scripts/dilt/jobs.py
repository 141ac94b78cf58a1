"""What training-type jobs share: the data, the partitions, theta0 and per-job seeds."""

from . import io, models
from .data import load_split
from .partitions import load_manifest


def context(smk):
    """Load (x_train, y_train, x_test, y_test) and the partition manifest of the job."""
    manifest = load_manifest(smk.input.partitions)
    return load_split(smk.input.data), manifest


def model_from(smk, split, manifest, weights_path):
    """The configured architecture with the weights of `weights_path` loaded."""
    model = models.build(smk.params.model, split[0].shape[1:], manifest["num_classes"])
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
