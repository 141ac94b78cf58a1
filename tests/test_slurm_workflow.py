"""The tiny workflow through the shipped profiles/slurm on the real one-node cluster.

A short job costs 15-25 s through sbatch and the executor's status polling here, so the run is
a slice of the tiny DAG that submits the main kinds of cluster job (partitions; IMP rounds 0-1
of both DiLT chains and of LTH, whose mask the same-round random control copies; the round-0
distance matrices and GW table; one retrained ticket: 11 sbatch jobs, 4 waves) and runs the
local rules init and tickets on the way. Its results must be byte-identical to the local
session run `tiny_run`. Then one job is made to fail.
"""

import re
import time
from collections import Counter
from pathlib import Path

import pytest
from slurm_cluster import require_slurm, run_snakemake, sacct_states, submitted_rules
from workflow_run import REPO, TINY

from dilt.paths import Paths

TINY_PATHS = Paths("tiny")
TARGETS = [TINY_PATHS.imp("metrics.json", "dilt", p, 1, 0) for p in ("p0", "p1")] + [
    TINY_PATHS.analysis("gw.tsv", 0, 0), TINY_PATHS.retrain("core", "round1", 0)]
SUBMITTED = {"partitions": 1, "imp_dense": 3, "imp_round": 3, "distances": 2, "gw": 1,
             "retrain": 1}
LOCAL = {"init": 1, "tickets": 1}


def snapshot(out):
    """{path: bytes} of every result file."""
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def slurm_snakemake(workdir, *targets):
    start = time.monotonic()
    # --max-threads: the CI node has 2 CPUs, fewer than the gw rule asks for
    proc = run_snakemake(workdir, "-s", str(REPO / "Snakefile"), "--max-threads", "2",
                         *targets, "--configfile", str(TINY))
    print(f"SLURM run of {len(targets)} targets: {time.monotonic() - start:.0f} s wall")
    return proc


@pytest.fixture(scope="session")
def slurm():
    """Session-scoped so that it is asked before the (session) local tiny run is built."""
    require_slurm()


@pytest.fixture(scope="module")
def cluster_run(slurm, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm_tiny")
    proc = slurm_snakemake(workdir, *TARGETS)
    return workdir, Path(Paths("tiny", workdir).results), proc


def test_cluster_jobs_complete_and_small_rules_stay_local(slurm, cluster_run):
    _, _, proc = cluster_run
    assert proc.returncode == 0, proc.stdout[-5000:]
    jobs = submitted_rules(proc.stdout)
    assert Counter(jobs.values()) == SUBMITTED
    assert sacct_states(proc.stdout) == {job: "COMPLETED" for job in jobs}
    local = Counter(re.findall(r"^localrule (\w+):", proc.stdout, flags=re.M))
    assert local == LOCAL


def test_cluster_results_equal_the_local_run(slurm, cluster_run, tiny_run):
    _, out, _ = cluster_run
    files = snapshot(out)
    # partitions + data, theta0, 3 chains x (round 0 with its rewind point, round 1), 5
    # tickets, 4 same-count random controls + overlap, 2 distances + GW, 1 retrained ticket
    assert len(files) == 2 + 1 + 3 * (4 + 3) + 5 + 4 + 1 + 3 + 1, sorted(files)
    for rel, data in files.items():
        assert data == (Path(tiny_run[1].results) / rel).read_bytes(), f"{rel} differs"


def test_failed_job_fails_the_run_and_finished_outputs_stay(slurm, cluster_run, tiny_run):
    workdir, out, _ = cluster_run
    corrupt = out / "seed0/imp/dilt/p0/round0/mask.safetensors"  # read by p0 round 1
    corrupt.write_bytes(corrupt.read_bytes()[:100])
    (out / "seed0/imp/dilt/p1/round1/metrics.json").unlink()  # p1 round 1 runs again
    before = snapshot(out)
    proc = slurm_snakemake(workdir, *TARGETS)
    assert proc.returncode != 0, proc.stdout[-5000:]
    assert "Error in rule imp_round" in proc.stdout
    jobs = submitted_rules(proc.stdout)
    assert Counter(jobs.values()) == {"imp_round": 3}  # p0 round 1, its retry, p1 round 1
    assert sorted(sacct_states(proc.stdout).values()) == ["COMPLETED", "FAILED", "FAILED"]
    log = Path(Paths("tiny", workdir).log("seed0/imp/dilt/p0/round1")).read_text()
    assert "round0/mask.safetensors: not a readable safetensors file" in log
    after = snapshot(out)
    rerun = {rel for rel in before.keys() | after.keys() if "round1" in rel.parts
             and rel.parts[:4] in (("seed0", "imp", "dilt", "p0"), ("seed0", "imp", "dilt", "p1"))}
    assert {rel: after[rel] for rel in after.keys() - rerun} == \
        {rel: before[rel] for rel in before.keys() - rerun}, "finished outputs changed"
    p1 = {rel for rel in rerun if rel.parts[3] == "p1"}
    local = Path(tiny_run[1].results)
    assert len(p1) == 3 and all(after[rel] == (local / rel).read_bytes() for rel in p1)
    assert not [rel for rel in rerun - p1 if rel in after], "the failed job left outputs"
