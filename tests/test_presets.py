"""Presets plan their DAG on fake dataset directories and ask a cluster for GPUs; tiny real
runs on CIFAR, Stanford Cars and MNIST-1D; figures stay drawable at 1,000 classes."""

import importlib
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from fake_datasets import write_cifar10, write_class_folders, write_stanford_cars
from PIL import Image
from safetensors.numpy import load_file
from workflow_run import REPO, TINY, planned_jobs, snakemake

from dilt import io, partitions, rule_job
from dilt.io import read_json
from dilt.paths import Paths

PRESETS = REPO / "config" / "presets"


@pytest.fixture(scope="module")
def fake_roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("datasets")
    write_cifar10(base / "cifar", train_per_class=6, test_per_class=4)
    write_stanford_cars(base / "cars", per_class=(1, 1))
    write_class_folders(base / "imagenet", 1000, per_class=(1, 1), size=8)
    return {"cifar10": base / "cifar", "cars": base / "cars", "imagenet": base / "imagenet"}


def preset(name):
    return yaml.safe_load((PRESETS / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", sorted(p.stem for p in PRESETS.glob("*.yaml")))
def test_each_preset_plans_its_dag_with_data_root_on_the_command_line(tmp_path, fake_roots,
                                                                       name):
    cfg = preset(name)
    args = []
    if cfg["dataset"]["name"] in fake_roots:
        args = ["--config", f"dataset={{data_root: {fake_roots[cfg['dataset']['name']]}}}"]
    jobs = planned_jobs(tmp_path, *args, configfiles=[PRESETS / f"{name}.yaml"])
    k, rounds = cfg["partitions"]["k"], cfg["imp"]["rounds"]
    chains = sum(1 if method == "lth" else k for method in cfg["imp"]["methods"])
    assert set(cfg["imp"]["methods"]) == {"dilt", "colt", "lth"}  # the study's comparison
    assert jobs["partitions"] == 1
    assert jobs["imp_dense"] == len(cfg["seeds"]) * chains  # round 0 of every chain
    assert jobs["imp_round"] == len(cfg["seeds"]) * chains * rounds
    assert jobs["distances"] == len(cfg["seeds"]) * k * 2
    assert jobs.get("prepare_dataset", 0) == (2 if cfg["dataset"].get("prepared") else 0)


TRAINING = {"imp_dense", "imp_round", "retrain", "rigl", "transfer"}


@pytest.mark.parametrize("name", ["imagenet-resnet50", "imagenet-deits", "cifar10-resnet18",
                                  "cars-resnet50"])
def test_gpu_presets_ask_the_slurm_profile_for_gpus_and_their_runtime(tmp_path, fake_roots,
                                                                     name):
    """Every job that trains or probes asks for the preset's GPUs, its runtime (minutes;
    hours for ImageNet) and its memory; --cores only lifts the dry run's cap on threads."""
    cfg = preset(name)
    proc = snakemake(tmp_path, "-n", "--workflow-profile", str(REPO / "profiles" / "slurm"),
                     "--cores", "256", "--config",
                     f"dataset={{data_root: {fake_roots[cfg['dataset']['name']]}}}",
                     configfiles=[PRESETS / f"{name}.yaml"])
    jobs = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)", proc.stdout, re.M)
    res, asked = cfg["resources"], set()
    for rule, line in jobs:
        values = dict(kv.split("=", 1) for kv in line.split(", "))
        kind = "train" if rule in TRAINING else "probe" if rule in (
            "saliency_masks", "distances") else None
        if kind:
            asked.add(rule)
            gpus = res[kind]["gpus"]
            assert gpus >= 1 and values["gpu"] == str(gpus)
            assert values["runtime"] == str(res[kind]["runtime"])
            assert values["mem_mb"] == str(res[kind]["mem_mb"] * gpus)
            assert values["cpus_per_task"] == str(cfg["threads"] * gpus)
    assert {"imp_dense", "imp_round", "retrain", "distances", "saliency_masks"} <= set(asked)
    if name.startswith("imagenet"):
        assert res["train"]["runtime"] >= 60 * 4  # hours
    if name == "imagenet-deits":
        assert res["train"]["gpus"] == 4  # data-parallel: 50-hour jobs in about 14


def test_disk_preset_without_data_root_is_a_config_error(tmp_path):
    proc = snakemake(tmp_path, "-n", configfiles=[PRESETS / "cifar10-resnet18.yaml"],
                     check=False)
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("config error")]
    assert proc.returncode != 0 and len(lines) == 1 and "dataset.data_root" in lines[0]


TINY_CIFAR = {
    "experiment": "cifar", "threads": 1, "workers": 0, "device": "auto",
    "partitions": {"k": 2, "scheme": "animals_vehicles"},
    "probe": {"per_class": 2},
    "model": {"arch": "conv2", "width": 4, "fc_width": 8},
    "train": {"epochs": 1, "batch_size": 32},
    "imp": {"rounds": 1, "rewind_step": 0}, "retrain": {"sparsities": [0.1], "rounds": [1]},
    "gw": {"rounds": [-1]}, "transfer": {"target": None, "rounds": None},
}


@pytest.fixture(scope="module")
def cifar_run(tmp_path_factory, fake_roots):
    workdir = tmp_path_factory.mktemp("cifar_run")
    cfg = {**TINY_CIFAR, "dataset": {"name": "cifar10", "data_root": str(fake_roots["cifar10"])}}
    (workdir / "cifar.yaml").write_text(yaml.safe_dump(cfg))
    paths = Paths("cifar")
    targets = [paths.table("imp"), paths.retrain("core", "round1", 0),
               paths.retrain("dense", "round0", 0), paths.analysis("distances_p0.npz", 1, 0)]
    snakemake(workdir, *targets, configfiles=[TINY, workdir / "cifar.yaml"])
    return Paths("cifar", workdir)


def test_tiny_cifar_run_keeps_labels_only_and_probes_the_test_split(cifar_run, fake_roots):
    manifest = read_json(cifar_run.partitions())
    assert manifest["input_shape"] == [3, 32, 32] and manifest["source"]["storage"] == "disk"
    assert [p["classes"] for p in manifest["partitions"]] == [[2, 3, 4, 5, 6, 7], [0, 1, 8, 9]]
    cached = load_file(cifar_run.data())
    assert sorted(cached) == ["y_test", "y_train"]
    assert len(cached["y_train"]) == 60 and len(cached["y_test"]) == 40
    test_labels = cached["y_test"]
    assert [int(test_labels[i]) for i in manifest["probe"]] == manifest["probe_labels"]
    assert sorted(np.bincount(manifest["probe_labels"]).tolist()) == [2] * 10


def test_tiny_cifar_run_trains_chains_and_tickets(cifar_run):
    for part in ("p0", "p1"):
        metrics = read_json(cifar_run.imp("metrics.json", "dilt", part, 1, 0))
        assert metrics["pruned_nonzero"] == 0 and abs(metrics["density"] - 0.8) < 0.01
    core = read_json(cifar_run.retrain("core", "round1", 0))
    assert core["density"] < 0.8 and 0 <= core["acc_all"] <= 1
    assert {"acc_p0", "acc_p1"} <= core.keys() and len(core["per_class"]) == 10
    assert core["runtime"]["device"] == "cpu" and core["runtime"]["precision"] == "fp32"
    assert "runtime" not in io.read_tsv(cifar_run.table("imp")).columns
    assert "data_root" not in read_json(cifar_run.partitions())["source"]  # where is not what


def test_tiny_cifar_probe_distances(cifar_run):
    with np.load(cifar_run.analysis("distances_p0.npz", 1, 0)) as npz:
        assert npz.files == ["conv1", "conv2", "fc1", "fc2"]
        assert all(npz[k].shape == (20, 20) for k in npz.files)


@pytest.fixture(scope="module")
def prepared_cifar_run(tmp_path_factory, fake_roots):
    """The tiny CIFAR run with dataset.prepared: the dataset's files are deleted once it is
    prepared, so the training and probe jobs can only have read the shards."""
    workdir = tmp_path_factory.mktemp("prepared_cifar_run")
    root = workdir / "cifar"
    shutil.copytree(fake_roots["cifar10"], root)
    cfg = {**TINY_CIFAR, "dataset": {"name": "cifar10", "data_root": str(root), "prepared": True}}
    (workdir / "cifar.yaml").write_text(yaml.safe_dump(cfg))
    paths, configs = Paths("cifar"), [TINY, workdir / "cifar.yaml"]
    snakemake(workdir, paths.partitions(),
              *(paths.prepared(s, "cifar10", 32) for s in ("train", "test")), configfiles=configs)
    for batch in (root / "cifar-10-batches-py").glob("*_batch*"):
        batch.unlink()
    snakemake(workdir, paths.retrain("core", "round1", 0), paths.analysis("distances_p0.npz", 1, 0),
              configfiles=configs)
    return Paths("cifar", workdir)


def test_a_prepared_run_trains_and_probes_from_the_shards_alone(prepared_cifar_run):
    index = read_json(prepared_cifar_run.prepared("train", "cifar10", 32))
    assert index["labels"] == load_file(prepared_cifar_run.data())["y_train"].tolist()
    metrics = read_json(prepared_cifar_run.imp("metrics.json", "dilt", "p1", 1, 0))
    assert metrics["pruned_nonzero"] == 0 and abs(metrics["density"] - 0.8) < 0.01
    core = read_json(prepared_cifar_run.retrain("core", "round1", 0))
    assert 0 <= core["acc_all"] <= 1 and len(core["per_class"]) == 10
    with np.load(prepared_cifar_run.analysis("distances_p0.npz", 1, 0)) as npz:
        assert all(npz[k].shape == (20, 20) for k in npz.files)


def test_mnist1d_preset_runs_with_a_short_schedule(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(yaml.safe_dump({"seeds": [0], "train": {"epochs": 1}, "imp": {"rounds": 1},
                                     "retrain": {"sparsities": [0.1], "rounds": [1]},
                                     "gw": {"rounds": [-1]}}))
    snakemake(tmp_path, Paths("mnist1d-mlp").table("imp"),
              configfiles=[PRESETS / "mnist1d-mlp.yaml", short])
    metrics = read_json(Paths("mnist1d-mlp", tmp_path).imp("metrics.json", "dilt", "p1", 1, 0))
    assert metrics["classes"] == [5, 6, 7, 8, 9] and metrics["test_acc"] > 0.3


def test_missing_dataset_directory_stops_the_partition_step_in_one_line(tmp_path):
    empty = tmp_path / "no-cifar-here"
    empty.mkdir()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"dataset": {"name": "cifar10", "data_root": str(empty)}}))
    proc = snakemake(tmp_path, Paths("tiny").partitions(), configfiles=[TINY, cfg],
                     check=False)
    errors = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("error:")]
    assert proc.returncode != 0 and len(errors) == 1
    assert f"{empty}/cifar-10-batches-py: missing data_batch_1" in errors[0]
    assert not (tmp_path / Paths("tiny").partitions()).exists()


def test_tiny_stanford_cars_run_reads_the_official_layout_and_splits_by_class_id(tmp_path,
                                                                                fake_roots):
    cfg = {**TINY_CIFAR, "experiment": "cars", "partitions": {"k": 2, "scheme": "contiguous"},
           "probe": {"per_class": 1},
           "dataset": {"name": "cars", "data_root": str(fake_roots["cars"]), "image_size": 32}}
    (tmp_path / "cars.yaml").write_text(yaml.safe_dump(cfg))
    paths = Paths("cars")
    snakemake(tmp_path, paths.imp("metrics.json", "dilt", "p1", 0, 0),
              configfiles=[TINY, tmp_path / "cars.yaml"])
    manifest = read_json(tmp_path / paths.partitions())
    assert [p["classes"] for p in manifest["partitions"]] == [list(range(98)),
                                                              list(range(98, 196))]
    metrics = read_json(tmp_path / paths.imp("metrics.json", "dilt", "p1", 0, 0))
    assert metrics["classes"] == list(range(98, 196))  # official ids 99-196


@pytest.mark.parametrize("classes", [10, 196, 1000])
def test_per_class_figure_stays_within_image_limits(tmp_path, classes):
    """ImageNet's 1,000 classes give a figure of fixed size (matplotlib refuses images wider
    than 2^16 pixels); up to 40 classes it is one point per class and ticket."""
    script = importlib.import_module("per_class_accuracy")
    tickets = ["core", "specialist_p0", "specialist_p1", "dense"]
    rng = np.random.default_rng(0)
    rows = [{"view": "round", "ticket": t, "round": 0 if t == "dense" else 3, "seed": s,
             "chance": 1 / classes, **{f"acc_class{c}": rng.uniform() for c in range(classes)}}
            for t in tickets for s in (0, 1)]
    io.write_tsv(tmp_path / "retrain.tsv", pd.DataFrame(rows))
    io.write_json(tmp_path / "partitions.json", {
        "dataset": "x", "num_classes": classes, "input_shape": [3, 8, 8], "source": {},
        "probe": [0], "partitions": partitions.make_partitions(classes, 2)})
    smk = rule_job.stand_in(
        input={"table": str(tmp_path / "retrain.tsv"),
               "partitions": str(tmp_path / "partitions.json")},
        output={"pdf": str(tmp_path / "f.pdf"), "png": str(tmp_path / "f.png")},
        params={"round": 3, "tickets": tickets})
    script.main(smk, lambda _: None)
    width, height = Image.open(tmp_path / "f.png").size
    assert width <= 2400 and height <= 2400 and (tmp_path / "f.pdf").stat().st_size > 0
