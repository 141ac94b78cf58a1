"""Library steps the rule scripts call, and a script run outside the workflow."""

import importlib

import numpy as np
import pandas as pd
import pytest
import torch

from dilt import imp, io, overlap, pruning, rule_job, tables


def test_a_chains_round_mask_is_its_magnitude_prune_and_colt_the_and():
    w = [{"a": torch.tensor([1.0, -4.0, 3.0, 2.0])}, {"a": torch.tensor([1.0, 2.0, 4.0, 3.0])}]
    m = [{"a": torch.ones(4, dtype=torch.bool)}] * 2
    own = imp.round_mask(m[:1], w[:1], 0.5, "global")
    assert own["a"].tolist() == pruning.magnitude_prune(w[0], m[0], 0.5)["a"].tolist()
    assert own["a"].tolist() == [False, True, True, False]
    assert imp.round_mask(m, w, 0.5, "global")["a"].tolist() == [False, False, True, False]


def test_pruned_nonzero_counts_pruned_weights_that_moved():
    model = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.5, 2.0]]))
    mask = {"weight": torch.tensor([[True, False], [False, True]])}
    assert imp.pruned_nonzero(model, mask) == 1


def test_overlap_rows_by_hand():
    a = {"l.0.w.weight": np.array([1, 1, 0, 0], bool), "x.weight": np.array([1, 0], bool)}
    b = {"l.0.w.weight": np.array([1, 0, 1, 0], bool), "x.weight": np.array([1, 0], bool)}
    tickets = {"core": {k: a[k] & b[k] for k in a}, "union": {k: a[k] | b[k] for k in a}}
    rows = {r["layer"]: r for r in overlap.overlap_rows([a, b], tickets, ["p0", "p1"])}
    assert set(rows) == {"l.0.w.weight", "x.weight", "l", "l.0", "all"}
    assert rows["l.0.w.weight"]["jaccard"] == pytest.approx(1 / 3)
    assert rows["l.0.w.weight"]["chance_jaccard"] == pytest.approx(0.25 / 0.75)
    assert rows["x.weight"]["jaccard"] == 1.0
    assert rows["all"]["params"] == 6 and rows["all"]["core_density"] == pytest.approx(2 / 6)
    assert rows["all"]["union_density"] == pytest.approx(4 / 6)


def test_exp1_counts_parallel_chains_once_per_round_at_their_slowest():
    retrained = pd.DataFrame({
        "ticket": ["core", "snip", "random_core", "dense"], "view": ["matched"] * 3 + ["round"],
        "seed": 0, "target_sparsity": [0.9, 0.9, 0.9, None], "round": [None] * 3 + [0],
        "density": [0.1, 0.1, 0.1, 1.0], "acc_all": [0.8, 0.7, 0.6, 0.9], "chance": 0.1,
        "empty_layers": "", "steps": 5})
    imp_rounds = pd.DataFrame({"method": "dilt", "part": ["p0", "p0", "p1", "p1"],
                               "seed": 0, "round": [0, 1, 0, 1], "steps": 10})
    matching = pd.DataFrame({"ticket": ["core", "specialist_p0"], "seed": 0,
                             "target_sparsity": 0.9, "feasible": [True, False],
                             "source_round": [1, None]})
    bench = {(0, "dilt", "p0", 0): 1.0, (0, "dilt", "p0", 1): 4.0,
             (0, "dilt", "p1", 0): 2.0, (0, "dilt", "p1", 1): 3.0,
             (0, "snip", "full", None): 0.5}
    table = tables.exp1(retrained, imp_rounds, matching, bench, ["p0", "p1"])
    by = table.set_index("ticket")
    assert by.loc["core", "serial_seconds"] == 10.0  # rounds 0 and 1 of both chains
    assert by.loc["core", "parallel_seconds"] == 2.0 + 4.0  # each round at its slowest chain
    assert by.loc["core", "train_steps"] == 40 and by.loc["core", "rounds"] == 1
    assert by.loc["random_core", "parallel_seconds"] == 6.0  # its reference's chains
    assert by.loc["snip", "serial_seconds"] == 0.5 and by.loc["snip", "rounds"] == 0
    assert not by.loc["specialist_p0", "feasible"]
    assert np.isnan(by.loc["specialist_p0", "accuracy"])
    assert by.loc["dense", "target_sparsity"] == 0.0
    assert by.loc["core", "sparsity"] == pytest.approx(0.9)


def test_a_rule_script_runs_outside_the_workflow_with_a_stand_in(tmp_path):
    script = importlib.import_module("tickets")
    masks = [{"w": np.array([1, 1, 0, 0], bool)}, {"w": np.array([1, 0, 1, 0], bool)}]
    for i, m in enumerate(masks):
        io.save_arrays(tmp_path / f"m{i}.safetensors", m)
    names = ["core", "union", "specialist_p0", "specialist_p1", "random"]
    smk = rule_job.stand_in(
        input={"masks": [str(tmp_path / f"m{i}.safetensors") for i in range(2)], "references": []},
        output={"tickets": [str(tmp_path / f"{n}.safetensors") for n in names],
                "overlap": str(tmp_path / "overlap.tsv")},
        params={"parts": ["p0", "p1"], "tickets": names, "references": [], "heads": None},
        wildcards={"seed": "0", "round": "1"})
    script.main(smk, log=lambda _: None)
    assert io.load_arrays(tmp_path / "specialist_p1.safetensors")["w"].tolist() == [
        False, False, True, False]
    assert io.read_tsv(tmp_path / "overlap.tsv").set_index("layer").loc["w", "jaccard"] == \
        pytest.approx(1 / 3)
