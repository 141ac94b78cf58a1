"""Rule init: theta0 of one seed."""

from dilt import io, models, rule_job
from dilt.partitions import load_manifest


def main(smk, log):
    manifest = load_manifest(smk.input.partitions)
    seed = int(smk.wildcards.seed)
    model = models.init_model(smk.params.model, manifest["input_shape"], manifest["num_classes"],
                              seed)
    log(f"theta0 for seed {seed}: {sum(p.numel() for p in model.parameters())} parameters")
    io.save_tensors(smk.output[0], model.state_dict())


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
