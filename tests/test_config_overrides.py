"""`--config key=value` takes YAML values: lists, numbers, booleans, null, nested mappings."""

import copy
from pathlib import Path

import yaml
from workflow_run import planned_jobs, snakemake

from dilt import configuration

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "config" / "schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_values_are_read_as_yaml():
    assert configuration.typed_overrides(
        ["seeds=[0]", "threads=2", "device=cpu", "flag=true", "gw={n_clusters: null}",
         "train={lr: 0.1, epochs: 3}", "empty="]) == {
        "seeds": [0], "threads": 2, "device": "cpu", "flag": True,
        "gw": {"n_clusters": None}, "train": {"lr": 0.1, "epochs": 3}, "empty": None}


def test_nested_overrides_change_one_key_and_keep_the_others():
    cfg = configuration.load(copy.deepcopy(DEFAULT), SCHEMA,
                             ["seeds=[0]", "train={epochs: 3}",
                              "baselines={rigl: {alpha: 0.5}}"])
    assert cfg["seeds"] == [0]
    assert cfg["train"] == {**DEFAULT["train"], "epochs": 3}
    assert cfg["baselines"]["rigl"] == {**DEFAULT["baselines"]["rigl"], "alpha": 0.5}
    assert cfg["baselines"]["methods"] == DEFAULT["baselines"]["methods"]


def test_seeds_list_on_the_command_line(tmp_path):
    assert planned_jobs(tmp_path, "--config", "seeds=[0, 1]")["init"] == 2


def test_train_epochs_on_the_command_line(tmp_path):
    snakemake(tmp_path, "-n", "--config", "train={epochs: 1}")
    proc = snakemake(tmp_path, "-n", "--config", "train={epochs: 0}", check=False)
    assert "config error: train.epochs: 0 is less than the minimum of 1" in proc.stdout


def test_nested_list_on_the_command_line(tmp_path):
    assert planned_jobs(tmp_path, "--config", "gw={rounds: [-1]}")["gw"] == 1


def test_a_value_that_is_not_yaml_names_the_key(tmp_path):
    proc = snakemake(tmp_path, "-n", "--config", "train={epochs: [1}", check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("config error")]
    assert proc.returncode != 0 and lines[0].startswith("config error: train: --config value")
