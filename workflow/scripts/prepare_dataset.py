"""Rule prepare_dataset: one split of a disk dataset decoded and resized once into uint8
shards (dilt.prepared), by the job's threads in parallel. Shards of a killed run are kept and
only the missing ones are written. dataset.data_root comes from the config, not params, so a
moved dataset reruns nothing (the shards' plan fingerprints paths relative to the dataset)."""

from pathlib import Path

from dilt import datasets, disk_datasets, prepared, rule_job


def main(smk, log):
    record = datasets.info(smk.params.dataset)
    train = smk.wildcards.split == "train"
    source = disk_datasets.open_split(record, smk.config["dataset"]["data_root"], train,
                                      smk.params.side)
    log(f"{record.name} {smk.wildcards.split}: {len(source.targets)} images from "
        f"{smk.config['dataset']['data_root']} at {smk.params.side}px, {smk.threads} workers")
    prepared.prepare(record.name, source, Path(smk.output[0]).parent, smk.params.side,
                     workers=smk.threads, log=log)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
