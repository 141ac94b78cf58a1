"""Jobs ask the scheduler for what the config says, and each GPU job gets GPUs of its own."""

import subprocess
import sys
from pathlib import Path

import pytest

from dilt import gpu_slots, scheduling
from dilt.io import DiltError

REPO = Path(__file__).resolve().parents[1]


def config(**train):
    kind = {"gpus": 0, "mem_mb": 2000, "runtime": 30, "retries": None}
    return {"threads": 6, "device": "auto", "gw": {"device": "cpu"}, "resources": {
        "growth": 2, "max_runtime": 90, "max_mem_mb": 20000,
        "train": {**kind, **train}, "probe": dict(kind),
        "gw": {"threads": 8, "mem_mb": 4000, "runtime": 60, "retries": 2}}}


def test_gpu_jobs_ask_per_gpu_and_grow_with_each_attempt_up_to_the_caps():
    cfg = config(gpus=2, mem_mb=3000, runtime=40)
    res = scheduling.rule_resources(cfg, "train")
    assert res["gpu"] == 2 and scheduling.threads(cfg, "train") == 12  # 6 per GPU
    assert [res["mem_mb"](None, a) for a in (1, 2, 3, 4)] == [6000, 12000, 20000, 20000]
    assert [res["runtime"](None, a) for a in (1, 2, 3)] == [40, 80, 90]
    assert scheduling.retries(cfg, "train") is None and scheduling.retries(cfg, "gw") == 2
    gw = scheduling.rule_resources(cfg, "gw")
    assert "gpu" not in gw and gw["mem_mb"](None, 1) == 4000
    cfg["gw"]["device"] = "cuda"
    assert scheduling.rule_resources(cfg, "gw")["gpu"] == 1
    assert scheduling.threads(cfg, "gw") == 8 and scheduling.threads(cfg, "probe") == 6


@pytest.mark.parametrize("device,gpus,key", [("cuda", 0, "resources.train.gpus: 0"),
                                             ("cuda:1", 1, "device: cuda:1")])
def test_a_device_that_contradicts_the_gpus_asked_for_is_a_config_error(device, gpus, key):
    cfg = config(gpus=gpus)
    cfg["device"], cfg["resources"]["probe"]["gpus"] = device, 1
    with pytest.raises(DiltError, match=key):
        scheduling.check(cfg)
    cfg["device"], cfg["resources"]["train"]["gpus"] = "cuda", 1
    scheduling.check(cfg)


@pytest.fixture
def locks(tmp_path):
    yield tmp_path
    gpu_slots.release()


def workstation(locks, **env):
    """The environment of a job on a machine with GPUs and no scheduler handing them out."""
    return {gpu_slots.LOCKS_ENV: str(locks), **env}


def test_jobs_on_a_workstation_claim_distinct_gpus_and_see_only_theirs(locks):
    first, second = workstation(locks), workstation(locks)
    assert gpu_slots.claim(1, environ=first, count_gpus=lambda: 3) == ["0"]
    assert gpu_slots.claim(2, environ=second, count_gpus=lambda: 3) == ["1", "2"]
    assert first["CUDA_VISIBLE_DEVICES"] == "0" and second["CUDA_VISIBLE_DEVICES"] == "1,2"
    with pytest.raises(DiltError, match="no 1 free GPUs among 0,1,2"):
        gpu_slots.claim(1, environ=workstation(locks), count_gpus=lambda: 3, poll=0.01,
                        timeout=0.05)
    gpu_slots.release()  # the jobs ended: their GPUs are free again
    assert gpu_slots.claim(2, environ=workstation(locks), count_gpus=lambda: 3) == ["0", "1"]


def test_a_claim_is_all_or_nothing_among_the_visible_gpus(locks):
    held = gpu_slots.claim(1, environ=workstation(locks, CUDA_VISIBLE_DEVICES="4,6"))
    assert held == ["4"]
    with pytest.raises(DiltError, match="no 2 free GPUs among 4,6"):
        gpu_slots.claim(2, environ=workstation(locks, CUDA_VISIBLE_DEVICES="4,6"), poll=0.01,
                        timeout=0.05)
    assert gpu_slots.claim(1, environ=workstation(locks, CUDA_VISIBLE_DEVICES="4,6")) == ["6"]


def test_slurm_allocations_are_used_as_given_and_impossible_claims_fail(locks):
    slurm = workstation(locks, SLURM_JOB_ID="7", CUDA_VISIBLE_DEVICES="0,1")
    assert gpu_slots.claim(2, environ=slurm) == ["0", "1"] and not list(locks.iterdir())
    with pytest.raises(DiltError, match="asks for 3 GPUs .* but 2 are visible"):
        gpu_slots.claim(3, environ=slurm)
    assert gpu_slots.claim(1, environ=workstation(locks), count_gpus=lambda: 0) == []


def test_gpu_check_stops_in_one_line_without_cuda():
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py")],
                          capture_output=True, text=True,
                          env={"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "no CUDA device visible" in proc.stderr
