"""A three-rule toy workflow through profiles/slurm on a real SLURM cluster (.ci/slurm/up.sh)."""

import pytest
from slurm_cluster import require_slurm, run_snakemake, sacct_states

# a -> b -> c; c fails when run with --config fail=1, after a and b have finished.
SNAKEFILE = """
rule all:
    input: "c.txt"

rule a:
    output: "a.txt"
    shell: "echo job=${{SLURM_JOB_ID:-}} > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    threads: 2
    shell: "echo cpus=${{SLURM_CPUS_PER_TASK:-}} | cat {input} - > {output}"

rule c:
    input: "b.txt"
    output: "c.txt"
    params: fail=config.get("fail", 0)
    shell: "test {params.fail} = 0 || exit 3; cp {input} {output}"
"""


@pytest.fixture(scope="module")
def slurm():
    require_slurm()


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    return tmp_path


def test_toy_runs_through_sbatch(slurm, toy):
    proc = run_snakemake(toy)
    assert proc.returncode == 0, proc.stdout
    lines = (toy / "c.txt").read_text().split()
    assert lines[0] != "job=" and lines[0].startswith("job="), "rule a did not run in a SLURM job"
    assert lines[1] == "cpus=2", "threads were not mapped to --cpus-per-task"
    states = sacct_states(proc.stdout)
    assert list(states.values()) == ["COMPLETED"] * 3, states


def test_failing_job_fails_run_and_keeps_outputs(slurm, toy):
    proc = run_snakemake(toy, "--config", "fail=1", "--retries", "0")
    assert proc.returncode != 0, proc.stdout
    assert "Error in rule c" in proc.stdout
    assert (toy / "a.txt").exists() and (toy / "b.txt").exists()
    assert not (toy / "c.txt").exists()
    assert sorted(sacct_states(proc.stdout).values()) == ["COMPLETED", "COMPLETED", "FAILED"]
