"""The Makefile: which Python builds .venv, and the commands `make run` and `make report` run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# A stand-in interpreter answering the Makefile's two questions (is it >= 3.11? which
# version?) as Python X.Y would; exit 127 plays a pyenv shim of a version not selected.
FAKE = """#!/bin/sh
case "$1 $2" in
  -V*) echo "Python {version}.0";;
  *print*) echo "$(basename "$0") is {version},";;
  *) exit {status};;
esac
"""


def fake_pythons(tmp_path, **versions):
    """A bin directory of stand-in interpreters, e.g. python3_12="3.10" or "missing"."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for name, version in versions.items():
        path = bin_dir / name.replace("_", ".")
        if version == "missing":
            path.write_text("#!/bin/sh\nexit 127\n")
        else:
            new = tuple(map(int, version.split("."))) >= (3, 11)
            path.write_text(FAKE.format(version=version, status=0 if new else 1))
        path.chmod(0o755)
    return bin_dir


def venv_of_this_python(tmp_path):
    """A stand-in .venv, up to date, whose python is the one running the tests."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / ".installed").touch()  # newer than the requirements: nothing to install
    return venv


def make(*args, path=None):
    env = {**os.environ, "PATH": f"{path}:/usr/bin:/bin" if path else os.environ["PATH"]}
    return subprocess.run(["make", "--no-print-directory", "-s", "-C", str(REPO), *args],
                          capture_output=True, text=True, env=env)


def test_the_newest_python_of_at_least_3_11_is_chosen(tmp_path):
    bin_dir = fake_pythons(tmp_path, python3_13="missing", python3_12="3.12",
                           python3_11="3.11", python3="3.9")
    proc = make("python", path=bin_dir)
    assert proc.returncode == 0 and proc.stdout.strip() == str(bin_dir / "python3.12")


def test_python3_is_taken_when_it_is_new_enough(tmp_path):
    bin_dir = fake_pythons(tmp_path, python3_13="missing", python3_12="missing",
                           python3_11="missing", python3="3.14")
    assert make("python", path=bin_dir).stdout.strip() == str(bin_dir / "python3")


def test_no_new_enough_python_stops_with_one_line_saying_what_to_do(tmp_path):
    bin_dir = fake_pythons(tmp_path, python3_13="missing", python3_12="missing",
                           python3_11="missing", python3="3.10")
    proc = make("run", "VENV=" + str(tmp_path / "venv"), path=bin_dir)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and not (tmp_path / "venv").exists()
    assert "DiLT needs Python >= 3.11 (python3 is 3.10," in lines[0]
    assert "PYTHON=/path/to/python3.11" in lines[0]


def test_python_names_the_interpreter_and_is_checked_too(tmp_path):
    bin_dir = fake_pythons(tmp_path, python3="3.9", old="3.10")
    assert make("python", f"PYTHON={sys.executable}").stdout.strip() == sys.executable
    proc = make("python", f"PYTHON={bin_dir / 'old'}", path=bin_dir)
    assert proc.returncode != 0 and "old is 3.10" in proc.stderr


def test_an_existing_venv_of_an_old_python_is_named(tmp_path):
    venv = tmp_path / "venv"
    fake_pythons(venv, python="3.10")  # venv/bin/python
    proc = make("venv", f"VENV={venv}")
    assert proc.returncode != 0 and f"{venv} is" in proc.stderr
    assert f"remove {venv}" in proc.stderr


def test_run_and_report_commands(tmp_path):
    venv = venv_of_this_python(tmp_path)
    run = make("-n", "run", f"VENV={venv}", "CONFIG=config/presets/mnist1d-mlp.yaml").stdout
    assert f"{venv}/bin/snakemake --configfile config/presets/mnist1d-mlp.yaml" in run
    assert "--workflow-profile" not in run and "results/mnist1d-mlp/report.html" in run
    report = make("-n", "report", f"VENV={venv}").stdout
    assert report.strip().endswith("--report results/mnist1d/report.html")


@pytest.mark.parametrize("target", ["test", "lint", "bench"])
def test_other_targets_use_the_venv(tmp_path, target):
    venv = venv_of_this_python(tmp_path)
    assert str(venv / "bin") in make("-n", target, f"VENV={venv}").stdout
