"""Killed runs resume to identical results; corrupt inputs fail with one line naming the file."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file, save_file
from workflow_run import REPO, SNAKEMAKE, TINY, snakemake

from dilt.paths import Paths

TINY_PATHS = Paths("tiny")
IMP_TARGET = TINY_PATHS.table("imp")


def result_files(paths):
    """Every deterministic result file of seed 0's IMP chains (masks, weights, metrics)."""
    root = Path(paths.seed_dir(0)) / "imp"
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def assert_same_results(paths_a, paths_b):
    files = result_files(paths_a)
    assert files and files == result_files(paths_b)
    for rel in files:
        a, b = (Path(p.seed_dir(0)) / "imp" / rel for p in (paths_a, paths_b))
        assert a.read_bytes() == b.read_bytes(), rel


def test_two_clean_runs_give_byte_identical_masks_weights_and_metrics(tiny_run, tmp_path):
    snakemake(tmp_path, IMP_TARGET)
    assert_same_results(tiny_run[1], Paths("tiny", tmp_path))


def test_killed_run_resumes_to_the_same_results(tiny_run, tmp_path):
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", IMP_TARGET, "--configfile", str(TINY)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    paths = Paths("tiny", tmp_path)
    log = Path(paths.log("seed0/imp/dilt/p0/round2"))
    deadline = time.time() + 300
    while not (log.exists() and "epoch 1/" in log.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert log.exists(), "the training job never started"
    assert not Path(paths.table("imp")).exists()
    for path in Path(paths.results).rglob("*.safetensors"):  # what looks finished is complete
        load_file(path)
    snakemake(tmp_path, "--unlock")  # a SIGKILLed snakemake cannot release its lock
    snakemake(tmp_path, IMP_TARGET, "--rerun-incomplete")
    assert_same_results(tiny_run[1], paths)


@pytest.fixture
def imp_run(tmp_path):
    """The tiny IMP chains up to round 1, finished."""
    snakemake(tmp_path, TINY_PATHS.imp("metrics.json", "dilt", "p0", 1, 0))
    return tmp_path, Paths("tiny", tmp_path)


def error_lines(proc):
    return [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("error: ")]


def run_round2(workdir):
    return snakemake(workdir, TINY_PATHS.imp("metrics.json", "dilt", "p0", 2, 0), check=False)


def test_truncated_checkpoint_names_the_file_and_leaves_finished_results(imp_run):
    workdir, paths = imp_run
    mask = Path(paths.imp("mask.safetensors", "dilt", "p0", 1, 0))
    mask.write_bytes(mask.read_bytes()[:100])
    before = mask.stat().st_mtime_ns
    proc = run_round2(workdir)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert "round1/mask.safetensors: not a readable safetensors file" in line
    assert mask.stat().st_mtime_ns == before
    assert not Path(paths.imp("metrics.json", "dilt", "p0", 2, 0)).exists()


@pytest.mark.parametrize("change,message", [
    ("drop", "mask keys do not match the prunable layers"),
    ("reshape", "mask 'conv1.weight' has shape (2, 2)"),
])
def test_mask_that_does_not_fit_the_architecture(imp_run, change, message):
    workdir, paths = imp_run
    path = paths.imp("mask.safetensors", "dilt", "p0", 1, 0)
    mask = load_file(path)
    if change == "drop":
        del mask["fc2.weight"]
    else:
        mask["conv1.weight"] = mask["conv1.weight"].ravel()[:4].reshape(2, 2)
    save_file(mask, path)
    proc = run_round2(workdir)
    assert proc.returncode != 0
    (line,) = error_lines(proc)
    assert "round1/mask.safetensors" in line and message in line


@pytest.mark.parametrize("edit,message", [
    (lambda m: m["partitions"][1]["classes"].append(0), "in more than one partition"),
    (lambda m: m.update(probe=[]), "the probe set is empty"),
])
def test_hand_edited_manifest_is_rejected(imp_run, edit, message):
    workdir, paths = imp_run
    path = Path(paths.partitions())
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    proc = run_round2(workdir)
    assert proc.returncode != 0
    lines = error_lines(proc)
    assert lines and all("partitions.json" in x and message in x for x in lines)


def test_no_unsafe_loading_in_the_code():
    pattern = re.compile(r"import pickle|pickle\.load|allow_pickle=True|torch\.load\(")
    offenders = []
    for path in [*REPO.glob("workflow/**/*.py"), *REPO.glob("bench/**/*.py")]:
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            if pattern.search(line) and "weights_only=True" not in line:
                offenders.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert not offenders, offenders
