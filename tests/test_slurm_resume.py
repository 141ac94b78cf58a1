"""On the one-node SLURM cluster (.ci/slurm/up.sh, two stand-in GPUs): jobs carry the
preset's GPU, memory and time requests, and a training job longer than its time limit
finishes through resubmissions that resume from its checkpoint, to the uninterrupted bytes.
"""

import math
import subprocess
import time
from collections import Counter

import pytest
import torch
import yaml
from fake_datasets import write_cifar10
from slurm_cluster import require_slurm, run_snakemake, sacct_rows, submitted_rules
from workflow_run import REPO, SNAKEMAKE, TINY

from dilt import datasets, models, train
from dilt.batches import TensorFeed
from dilt.paths import Paths

PRESET = REPO / "config" / "presets" / "cifar10-resnet18.yaml"
TIMED_LIMIT_S = 75  # training the time-limit job needs, at this machine's measured speed


@pytest.fixture(scope="module")
def slurm():
    require_slurm()


def write(path, cfg):
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_cifar_preset_slice_asks_slurm_for_the_preset_gpus_memory_and_time(slurm, tmp_path):
    """The preset as written (resources, GPUs), on fake CIFAR with a tiny network; device cpu
    because the node's GPUs are stand-ins. --max-threads: the node has 2 CPUs."""
    write_cifar10(tmp_path / "cifar", train_per_class=4, test_per_class=2)
    small = write(tmp_path / "small.yaml", {
        "dataset": {"data_root": str(tmp_path / "cifar")}, "device": "cpu", "workers": 0,
        "model": {"arch": "conv2", "width": 4, "fc_width": 8},
        "train": {"epochs": 1, "batch_size": 32}, "imp": {"rewind_step": 0},
        "probe": {"per_class": 2}})
    cifar = Paths("cifar10-resnet18")
    proc = run_snakemake(tmp_path, "-s", str(REPO / "Snakefile"), "--max-threads", "2",
                         cifar.analysis("distances_p0.npz", 0, 0),
                         "--configfile", str(PRESET), str(small))
    assert proc.returncode == 0, proc.stdout[-5000:]
    rules = submitted_rules(proc.stdout)
    assert Counter(rules.values()) == {"partitions": 1, "imp_dense": 1, "distances": 1}
    rows = sacct_rows(proc.stdout, ["State", "ReqTRES", "Timelimit", "ReqMem"])
    preset = yaml.safe_load(PRESET.read_text())["resources"]
    for job, rule in rules.items():
        row, kind = rows[job], {"imp_dense": "train", "distances": "probe"}.get(rule)
        assert row["State"] == "COMPLETED"
        if kind is None:
            assert "gres/gpu" not in row["ReqTRES"]
            continue
        assert f"gres/gpu={preset[kind]['gpus']}" in row["ReqTRES"], row
        assert row["Timelimit"] == f"00:{preset[kind]['runtime']:02d}:00"
        assert row["ReqMem"] == f"{preset[kind]['mem_mb']}M"


def seconds_per_epoch():
    """One epoch of the time-limit job (dilt/p0 of the tiny digits study), measured here."""
    torch.set_num_threads(1)
    data = datasets.load({"name": "digits", "test_fraction": 0.25, "split_seed": 0})
    feed = TensorFeed(torch.from_numpy(data.train.x), torch.from_numpy(data.train.y))
    model = models.init_model(yaml.safe_load(TINY.read_text())["model"], (1, 8, 8), 10, 0)
    recipe = {"epochs": 8, "batch_size": 64, "lr": 0.05, "momentum": 0.9, "weight_decay": 0}
    start = time.perf_counter()
    train.train(model, None, feed, recipe, 0, classes=[0, 1, 2, 3, 4], log=lambda _: None)
    return (time.perf_counter() - start) / recipe["epochs"]


def test_a_job_past_its_time_limit_resumes_through_resubmissions_to_the_same_bytes(
        slurm, tmp_path):
    """A 1-minute limit, about TIMED_LIMIT_S of training, a checkpoint every 3 s, 4 retries at
    the same limit: SLURM kills the first attempt (TIMEOUT) and a later one finishes from the
    checkpoint, byte-identical to the same job run locally without interruption."""
    epochs = math.ceil(TIMED_LIMIT_S / seconds_per_epoch())
    cfg = {"device": "cpu", "train": {"epochs": epochs},
           "checkpoint": {"minutes": 0.05, "scratch": "scratch"},
           "resources": {"growth": 1, "train": {"runtime": 1, "retries": 4}}}
    target = Paths("tiny").imp("trained.safetensors", "dilt", "p0", 0, 0)
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    configs = [str(TINY), str(write(tmp_path / "c.yaml", cfg))]
    local.mkdir()
    reference = subprocess.Popen(  # the uninterrupted run, meanwhile, on this machine
        [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(local), "--cores",
         "1", target, "--configfile", *configs], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    cluster.mkdir()
    proc = run_snakemake(cluster, "-s", str(REPO / "Snakefile"), target, "--configfile",
                         *configs)
    out, _ = reference.communicate(timeout=900)
    assert reference.returncode == 0, out[-3000:]
    assert proc.returncode == 0, proc.stdout[-5000:]
    rules, rows = submitted_rules(proc.stdout), sacct_rows(proc.stdout, ["State", "Timelimit"])
    states = [rows[job]["State"] for job in sorted(rules, key=int) if rules[job] == "imp_dense"]
    assert states[0] == "TIMEOUT" and states[-1] == "COMPLETED", states
    assert all(rows[job]["Timelimit"] == "00:01:00" for job, rule in rules.items()
               if rule == "imp_dense")
    log = (cluster / Paths("tiny").log("seed0/imp/dilt/p0/round0")).read_text()
    assert "resumed from scratch/results/tiny/seed0/imp/dilt/p0/round0" in log
    for name in ("mask.safetensors", "trained.safetensors", "rewind.safetensors",
                 "metrics.json"):
        rel = Paths("tiny").imp(name, "dilt", "p0", 0, 0)
        assert (cluster / rel).read_bytes() == (local / rel).read_bytes(), rel
    assert not list((cluster / "scratch").rglob("*.safetensors"))
