"""Helpers to run the real workflow with snakemake in a temporary directory."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TINY = REPO / "tests" / "tiny.yaml"


def snakemake(workdir, *args, configfiles=(TINY,), check=True, repo=REPO):
    """Run snakemake on the Snakefile of `repo` inside `workdir`; return the process."""
    cmd = [str(SNAKEMAKE), "-s", str(Path(repo) / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args, "--configfile", *map(str, configfiles)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_jobs(workdir, *args, **kwargs):
    """Rule names of the jobs a dry run would execute (from the job-stats table)."""
    proc = snakemake(workdir, *args, "-n", "--quiet", "rules", **kwargs)  # --quiet takes values
    jobs = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            jobs[parts[0]] = int(parts[1])
    return jobs
