"""Rule partitions: class partitions, probe set (from the held-out split) and the cached split.

A missing or malformed dataset directory stops here with one line naming the path."""

from dilt import datasets, io, rule_job
from dilt.partitions import fingerprint, make_partitions, probe_indices


def main(smk, log):
    ds_cfg, part_cfg, probe_cfg = smk.params.dataset, smk.params.partitions, smk.params.probe
    # The data root is read from the config, not a parameter: moving the data reruns nothing.
    dataset = datasets.load({**ds_cfg, "data_root": rule_job.data_root(smk)})
    partitions = make_partitions(dataset.num_classes, part_cfg["k"], part_cfg["scheme"],
                                 part_cfg["classes"], part_cfg["seed"], dataset.name)
    classes = sorted(c for p in partitions for c in p["classes"])
    probe = probe_indices(dataset.test.y, classes, probe_cfg["per_class"], probe_cfg["seed"])
    log(f"{dataset.name}: {len(dataset.train.y)} train, {len(dataset.test.y)} test, "
        f"partitions {partitions}, {len(probe)} probe examples")
    datasets.save_split(smk.output.data, dataset)
    io.write_json(smk.output.manifest, {
        "dataset": dataset.name,
        "num_classes": dataset.num_classes,
        "input_shape": list(dataset.input_shape),
        "source": dataset.source,
        "n_train": len(dataset.train.y),
        "n_test": len(dataset.test.y),
        "partitions": partitions,
        "probe": probe,
        "probe_labels": [int(dataset.test.y[i]) for i in probe],
        "fingerprint": fingerprint([ds_cfg, partitions, probe]),
    })


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
