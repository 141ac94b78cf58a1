"""The embedded ViT study (config/presets/digits-vit.yaml), shrunk to minutes: CAP and SAViT
through the DAG into experiment 1, the per-head / per-module overlap table and its figure,
and GW nodes in transformer terms."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from safetensors.numpy import load_file
from workflow_run import REPO, snakemake

from dilt.io import read_json
from dilt.paths import Paths

PRESET = REPO / "config" / "presets" / "digits-vit.yaml"
TARGET = 0.5
SHRINK = {  # merged over the preset
    "seeds": [0], "model": {"width": 8, "fc_width": 16},
    "train": {"epochs": 2, "batch_size": 64},
    "imp": {"methods": ["dilt", "lth"], "rounds": 1, "fraction": 0.5, "rewind_step": 2},
    "retrain": {"sparsities": [TARGET], "rounds": [1]},
    "baselines": {"methods": ["cap", "savit"], "reinit": [],
                  "cap": {"block_size": 8, "num_grads": 32, "schedule": {"steps": 1, "epochs": 1}},
                  "savit": {"examples": 64, "batch_size": 32}},
    "probe": {"per_class": 4},
    "gw": {"rounds": [-1], "permutations": 99, "density_null_draws": 99, "max_clusters": 3},
    "transfer": {"target": None},
}
LAYERS = [f"blocks.{i}.{part}" for i in range(4) for part in ("attn", "mlp")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("vit")
    (workdir / "shrink.yaml").write_text(yaml.safe_dump(SHRINK))
    snakemake(workdir, configfiles=[PRESET, workdir / "shrink.yaml"])
    return Paths("digits-vit", workdir)


def test_cap_and_savit_write_mask_weights_and_record_from_lths_trained_round_0(run):
    start = run.imp("trained.safetensors", "lth", "full", 0, 0)
    trained = load_file(start)
    for name in ("cap", "savit"):
        mask = load_file(run.baseline(name, TARGET, 0))
        weights = load_file(run.baseline_weights(name, TARGET, 0))
        record = read_json(run.baseline_record(name, TARGET, 0))
        assert weights.keys() == trained.keys() and record["start_weights"].endswith(
            "imp/lth/full/round0/trained.safetensors")
        total = sum(m.size for m in mask.values())
        assert abs(sum(int(m.sum()) for m in mask.values()) / total - 0.5) <= 0.01
        assert record["density"] == pytest.approx(sum(int(m.sum()) for m in mask.values())
                                                  / total)
        assert all((weights[k][~m] == 0).all() for k, m in mask.items())
        assert 0 < record["flops_reduction"] < 1
    # SAViT prunes without changing the kept weights; CAP moves them (OBS update, fine-tuning)
    savit = load_file(run.baseline("savit", TARGET, 0))
    savit_w = load_file(run.baseline_weights("savit", TARGET, 0))
    assert all((savit_w[k][m] == trained[k][m]).all() for k, m in savit.items())
    assert read_json(run.baseline_record("cap", TARGET, 0))["train_steps"] == 22  # 1 epoch
    assert sum(read_json(run.baseline_record("savit", TARGET, 0))["removed"].values()) > 0


def test_cap_and_savit_in_experiment_1_with_flops_and_their_finding_time(run):
    table = pd.read_csv(run.table("exp1"), sep="\t").set_index("ticket")
    assert {"flops", "flops_reduction"} <= set(table.columns)
    for name in ("cap", "savit"):
        row = table.loc[name]
        assert row["feasible"] and row["method"] == name and row["source_round"] == 0
        assert abs(row["sparsity"] - TARGET) <= 0.01 and 0 < row["flops_reduction"] < 1
        assert row["serial_seconds"] > 0
    assert table.loc["dense", "flops_reduction"] == 0
    assert table.loc["cap", "train_steps"] == table.loc["savit", "train_steps"] + 22
    # unstructured at the same density, CAP saves fewer FLOPs than SAViT's whole units
    assert table.loc["cap", "flops_reduction"] < table.loc["savit", "flops_reduction"]
    comparisons = pd.read_csv(run.table("comparisons"), sep="\t")
    assert {"union_vs_cap", "union_vs_savit"} <= set(comparisons["comparison"])
    # retraining starts from the pruned weights
    log = open(run.log("seed0/retrain/cap/sparsity0.5")).read()
    assert "baselines/sparsity0.5/cap.weights.safetensors" in log


def test_vit_overlap_table_per_head_projection_and_ffn(run):
    table = pd.read_csv(run.vit_overlap(1, 0), sep="\t")
    block0 = table[table["block"] == "blocks.0"]
    assert list(block0["component"]) == ["head0", "head1", "head2", "head3", "q", "k", "v",
                                         "proj", "fc1", "fc2", "ffn"]
    assert list(table["block"].unique()) == ["patch_embed"] + [f"blocks.{i}" for i in range(4)]
    core = load_file(run.ticket("core", 1, 0))
    kept = core["blocks.0.mlp.fc1.weight"].mean()
    assert block0.set_index("component").loc["fc1", "core_density"] == pytest.approx(kept, abs=1e-6)
    assert np.isfinite(table["jaccard_vs_chance"]).all()
    figure = run.figure("vit_components", "png")
    assert open(figure, "rb").read(4) == b"\x89PNG"


def test_gw_nodes_are_each_blocks_attention_and_mlp_output(run):
    with np.load(run.analysis("distances_p0.npz", 1, 0)) as npz:
        assert npz.files == LAYERS
    gw = pd.read_csv(run.analysis("gw.tsv", 1, 0), sep="\t", index_col=0)
    assert list(gw.index) == [f"{p}:{x}" for p in ("p0", "p1") for x in LAYERS]
    correlation = json.loads(open(run.analysis("correlation.json", 1, 0)).read())
    assert [x["layer"] for x in correlation["layers"]] == LAYERS
