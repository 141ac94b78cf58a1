"""Rule transfer_data: the transfer target's split, shaped like the source inputs."""

from dilt import datasets, io, rule_job
from dilt.partitions import load_manifest


def main(smk, log):
    in_shape = load_manifest(smk.input.partitions)["input_shape"]
    p = smk.params
    dataset = datasets.load_target(p.target, in_shape, p.samples, p.seed)
    log(f"{dataset.name}: {len(dataset.train.y)} train, {len(dataset.test.y)} test, "
        f"inputs {tuple(in_shape)}, {dataset.num_classes} classes")
    datasets.save_split(smk.output.data, dataset)
    io.write_json(smk.output.info, {
        "dataset": dataset.name, "num_classes": dataset.num_classes,
        "n_train": len(dataset.train.y), "n_test": len(dataset.test.y),
        "input_shape": list(in_shape), "samples": p.samples, "seed": p.seed})


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
