"""Training jobs through the real rules: a killed job resumes from its checkpoint to the
uninterrupted result, a job with two (gloo) processes matches one process, and moving the
data or the working directory, or changing what jobs ask the scheduler for, reruns nothing."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import yaml
from fake_datasets import write_cifar10
from safetensors.numpy import load_file
from workflow_run import REPO, SNAKEMAKE, TINY, planned_jobs, snakemake

from dilt.io import read_json
from dilt.paths import Paths

P = Paths("tiny")
ROUND0 = [P.imp(f, "dilt", "p0", 0, 0) for f in
          ("mask.safetensors", "trained.safetensors", "rewind.safetensors", "metrics.json")]
ROUND1 = P.imp("metrics.json", "dilt", "p0", 1, 0)
# About 660 steps on digits: seconds, long enough to kill the job after its first checkpoint.
LONG = {"device": "cpu", "train": {"epochs": 60}}
SHORT = {"device": "cpu"}  # tiny.yaml's 2 epochs: one and two processes stay within 1e-6


def write(path, cfg):
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_killed_training_job_resumes_from_its_checkpoint_to_the_same_bytes(
        tmp_path_factory):
    uninterrupted = tmp_path_factory.mktemp("uninterrupted")  # checkpoints never due
    snakemake(uninterrupted, ROUND0[-1], configfiles=[TINY, write(uninterrupted / "l.yaml",
                                                                 LONG)])
    tmp_path = tmp_path_factory.mktemp("killed")
    cfg = write(tmp_path / "c.yaml", {**LONG, "checkpoint": {"minutes": None, "steps": 20,
                                                             "scratch": "scratch"}})
    checkpoint = tmp_path / "scratch" / f"{ROUND0[0]}.ckpt.safetensors"
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", ROUND0[-1], "--configfile", str(TINY), str(cfg)]
    run = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    while not checkpoint.exists() and run.poll() is None:
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)  # snakemake and the job, as a node failure would
    run.wait()
    assert checkpoint.exists() and not (tmp_path / ROUND0[-1]).exists()
    snakemake(tmp_path, "--unlock", configfiles=[TINY, cfg])
    snakemake(tmp_path, "--rerun-incomplete", ROUND0[-1], configfiles=[TINY, cfg])
    log = (tmp_path / P.log("seed0/imp/dilt/p0/round0")).read_text()
    assert f"resumed from scratch/{ROUND0[0]}.ckpt.safetensors at step" in log
    for rel in ROUND0:
        assert (tmp_path / rel).read_bytes() == (uninterrupted / rel).read_bytes(), rel
    assert not checkpoint.exists(), "the finished job leaves its checkpoint behind"
    runtime = read_json(tmp_path / ROUND0[-1])["runtime"]
    assert (runtime["device"], runtime["precision"], runtime["processes"]) == ("cpu", "fp32", 1)


def test_a_job_with_two_gloo_processes_matches_one_process(tmp_path_factory):
    """resources.train.gpus: 2 on the CPU trains each job data-parallel in 2 processes with
    the same global batch; both rounds agree with one process within 1e-5 (the sums of
    shard gradients round differently; over hundreds of steps at this learning rate the
    difference grows chaotically, so the schedule is short) and pruned weights stay
    exactly zero."""
    one_process, tmp_path = (tmp_path_factory.mktemp(n) for n in ("one", "two"))
    snakemake(one_process, ROUND1, configfiles=[TINY, write(one_process / "s.yaml", SHORT)])
    cfg = write(tmp_path / "two.yaml", {**SHORT, "resources": {"train": {"gpus": 2}}})
    snakemake(tmp_path, ROUND1, configfiles=[TINY, cfg])
    for rnd in (0, 1):
        one, two = (load_file(w / P.imp("trained.safetensors", "dilt", "p0", rnd, 0))
                    for w in (one_process, tmp_path))
        assert max(float(np.abs(one[k] - two[k]).max()) for k in one) < 1e-5
        metrics = read_json(tmp_path / P.imp("metrics.json", "dilt", "p0", rnd, 0))
        assert metrics["runtime"]["processes"] == 2 and metrics["pruned_nonzero"] == 0
    masks = [load_file(w / P.imp("mask.safetensors", "dilt", "p0", 1, 0))
             for w in (one_process, tmp_path)]
    assert all((masks[0][k] == masks[1][k]).all() for k in masks[0])
    log = (tmp_path / P.log("seed0/imp/dilt/p0/round1")).read_text()
    assert "device cpu, torch" in log and "processes 2" in log


CIFAR = {"experiment": "cifar", "threads": 1, "workers": 0, "device": "cpu",
         "partitions": {"k": 2, "scheme": "animals_vehicles"}, "probe": {"per_class": 2},
         "model": {"arch": "conv2", "width": 4, "fc_width": 8},
         "train": {"epochs": 1, "batch_size": 32}, "imp": {"rounds": 1, "rewind_step": 0},
         "retrain": {"sparsities": [0.1], "rounds": [1]}, "gw": {"rounds": [-1]},
         "transfer": {"target": None}}


def test_moving_the_data_or_the_working_directory_reruns_nothing(tmp_path):
    old, new = tmp_path / "mnt-a" / "cifar", tmp_path / "mnt-b" / "cifar"
    write_cifar10(old, train_per_class=4, test_per_class=2)
    work = tmp_path / "scratch-1" / "run"
    work.mkdir(parents=True)
    cifar = Paths("cifar")
    first, second = (cifar.imp("metrics.json", "dilt", p, 0, 0) for p in ("p0", "p1"))

    def configs(root, scratch="checkpoints"):
        return [TINY, write(tmp_path / "c.yaml", {**CIFAR, "dataset": {
            "name": "cifar10", "data_root": str(root)}, "checkpoint": {"scratch": scratch}})]

    snakemake(work, first, configfiles=configs(old))
    old.parent.rename(tmp_path / "mnt-b")  # the same files under another mount
    assert planned_jobs(work, first, configfiles=configs(new)) == {}
    assert planned_jobs(work, first, configfiles=configs(new, "/elsewhere")) == {}
    moved = tmp_path / "scratch-2" / "run"
    shutil.move(tmp_path / "scratch-1", tmp_path / "scratch-2")  # the results, moved
    assert planned_jobs(moved, first, configfiles=configs(new)) == {}
    more = write(tmp_path / "r.yaml", {"resources": {"train": {"mem_mb": 9000, "runtime": 600}}})
    assert planned_jobs(moved, first, configfiles=[*configs(new), more]) == {}  # no trigger
    assert planned_jobs(moved, second, configfiles=configs(new)) == {"imp_dense": 1}
    snakemake(moved, second, configfiles=configs(new))  # reads the data where it is now
    assert read_json(moved / second)["classes"] == [0, 1, 8, 9]
    assert "data_root" not in read_json(moved / cifar.partitions())["source"]
