"""Rule init: theta0 of one seed."""

from dilt import io, models
from dilt.data import load_split
from dilt.partitions import load_manifest
from dilt.script import run


def main(smk, log):
    manifest = load_manifest(smk.input.partitions)
    x_train = load_split(smk.input.data)[0]
    seed = int(smk.wildcards.seed)
    model = models.init_model(smk.params.model, x_train.shape[1:], manifest["num_classes"], seed)
    log(f"theta0 for seed {seed}: {sum(p.numel() for p in model.parameters())} parameters")
    io.save_tensors(smk.output[0], model.state_dict())


run(main, snakemake)  # noqa: F821
