"""Conda environments: every rule names one, every package is pinned and matches the pip pins."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))


def pip_pins():
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line:
            name, version = line.split("==")
            pins[name.lower()] = version.strip()
    return pins


def env_packages(path):
    """(name, version) pairs of an env file, conda and pip sections alike."""
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"][0] == "conda-forge", path
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                name, _, version = pip_dep.partition("==")
                yield name, version
        else:
            name, _, version = dep.partition("=")
            yield name, version


@pytest.mark.parametrize("path", ENVS, ids=[p.name for p in ENVS])
def test_env_pins_every_package_to_the_pip_version(path):
    pins = pip_pins()
    for name, version in env_packages(path):
        assert re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), f"{path.name}: {name} not pinned"
        if name == "python":
            assert version == "3.11"
        elif name != "pip":
            assert pins[name.lower()] == version, f"{path.name}: {name}"


def test_every_rule_has_a_conda_env_that_exists():
    rules = (REPO / "rules").glob("*.smk")
    for smk in rules:
        text = smk.read_text()
        blocks = re.split(r"^(?:rule|checkpoint) ", text, flags=re.M)[1:]
        for block in blocks:
            name = block.split(":")[0]
            if "localrule: True" in block and "script:" not in block and "shell:" not in block:
                continue
            env = re.search(r'conda:\s*\n\s*"([^"]+)"', block)
            assert env, f"{smk.name}: rule {name} has no conda env"
            assert (smk.parent / env.group(1)).resolve().is_file(), f"{smk.name}: {env.group(1)}"


def test_requirements_pin_exactly():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), line
