"""Helpers for tests that run the workflow on the one-node SLURM cluster of .ci/slurm/up.sh.

Usage in a test module:

    from slurm_cluster import require_slurm, run_snakemake, sacct_states

    @pytest.fixture(scope="module")
    def slurm():
        require_slurm()      # pytest.skip with the reason when there is no usable cluster

    def test_x(slurm, tmp_path):
        proc = run_snakemake(tmp_path)               # through profiles/slurm
        assert set(sacct_states(proc.stdout)) == {"COMPLETED"}
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "profiles"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
# What .ci/slurm/up.sh creates; the slurm profile reads them from these sbatch variables.
CLUSTER_ENV = {"SBATCH_PARTITION": "debug", "SBATCH_ACCOUNT": "dilt"}
# Poll job states every few seconds instead of the plugin's 40 s: jobs here take seconds.
FAST_POLL = "--slurm-init-seconds-before-status-checks 6 --seconds-between-status-checks 2".split()
# Set by CI after up.sh succeeded: then a missing cluster is a failure, not a skip.
REQUIRE_ENV = "DILT_REQUIRE_SLURM"


def _ask(*cmd: str) -> tuple[bool, str]:
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"`{' '.join(cmd)}` failed: {e}"
    if proc.returncode:
        return False, f"`{' '.join(cmd)}` exited {proc.returncode}: {proc.stderr.strip()}"
    return True, proc.stdout


def slurm_available() -> tuple[bool, str]:
    """(True, description) if sinfo answers, a node is idle/mixed and sacct works."""
    hint = " (start one with: sudo bash .ci/slurm/up.sh)"
    if shutil.which("sinfo") is None:
        return False, "SLURM client tools not installed" + hint
    ok, out = _ask("sinfo", "-h", "-N", "-o", "%N %t %P")
    if not ok:
        return False, out + hint
    ready = [line for line in out.splitlines() if line.split()[1].rstrip("*~#") in ("idle", "mix")]
    if not ready:
        return False, f"no idle/mixed SLURM node: {out.strip() or 'no nodes'}" + hint
    ok, out = _ask("sacct", "-n", "-X", "-S", "now-60")
    if not ok:
        return False, "sacct (slurmdbd accounting) does not answer: " + out + hint
    if not SNAKEMAKE.exists():
        return False, f"{SNAKEMAKE} not found"
    return True, "nodes ready: " + "; ".join(ready)


def require_slurm() -> None:
    """Skip the calling test (fail it, if $DILT_REQUIRE_SLURM is set) without a cluster."""
    ok, reason = slurm_available()
    if not ok:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"${REQUIRE_ENV} is set but SLURM is unavailable: {reason}")
        pytest.skip(f"SLURM unavailable: {reason}")


def run_snakemake(workdir: Path, *args: str, slurm: bool = True, timeout: int = 900):
    """Run snakemake in workdir through profiles/slurm (or profiles/default); output merged."""
    cmd = [str(SNAKEMAKE)]
    if slurm:
        cmd += ["--workflow-profile", str(PROFILES / "slurm"), "--executor", "slurm", *FAST_POLL]
    else:
        cmd += ["--workflow-profile", str(PROFILES / "default")]
    env = {**os.environ, **CLUSTER_ENV} if slurm else None
    return subprocess.run(
        cmd + list(args),
        check=False,
        cwd=workdir,
        env=env,
        timeout=timeout,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sacct_states(snakemake_output: str) -> dict[str, str]:
    """{slurm job id: state} from the accounting DB for the run that printed this output."""
    return {job: row["State"] for job, row in sacct_rows(snakemake_output, ["State"]).items()}


def sacct_rows(snakemake_output: str, fields: list[str]) -> dict[str, dict[str, str]]:
    """{slurm job id: {field: value}} (sacct's field names, e.g. ReqTRES, Timelimit) of the
    jobs of the run that printed this output."""
    run_id = re.search(r"SLURM run ID: (\S+)", snakemake_output)
    assert run_id, "no 'SLURM run ID' in snakemake's output: did it use the slurm executor?"
    query = f"sacct -X -n -P -S now-86400 -o JobID,{','.join(fields)} --name {run_id[1]}"
    ok, out = _ask(*query.split())
    assert ok, out
    rows = [line.split("|") for line in out.splitlines() if line]
    return {row[0]: dict(zip(fields, row[1:], strict=True)) for row in rows}


def submitted_rules(snakemake_output: str) -> dict[str, str]:
    """{SLURM job id: rule} of the jobs snakemake submitted, from its output."""
    pattern = r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/"
    return dict(re.findall(pattern, snakemake_output))
