"""A real tiny run of the whole DAG: every file contract, then nothing left to do."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.numpy import load_file
from workflow_run import TINY, snakemake

from dilt.io import read_json
from dilt.paths import Paths
from dilt.pruning import magnitude_prune

ROUNDS, FRACTION, PARTS = 3, 0.2, ["p0", "p1"]
LAYERS = ["conv1", "conv2", "conv3", "conv4", "fc1", "fc2"]
TICKETS = ["core", "union", "specialist_p0", "specialist_p1", "random", "mask_p0", "mask_p1"]
SAME_ROUND = [*TICKETS, "lth", "colt", "random_core", "random_specialist_p0",
              "random_specialist_p1", "random_lth"]
TARGET = 0.3  # tests/tiny.yaml's one matched sparsity
MATCHED = ["core", "union", "mask_p0", "mask_p1", "lth", "colt", "random", "random_core",
           "random_lth", "random_global", "snip", "grasp", "rigl", "reinit_lth"]
CHAINS = {"dilt": PARTS, "colt": PARTS, "lth": ["full"]}


@pytest.fixture(scope="module")
def run(tiny_run):
    return tiny_run


def test_partitions_manifest(run):
    _, P = run
    manifest = read_json(P.partitions())
    assert manifest["dataset"] == "digits" and manifest["num_classes"] == 10
    assert [p["classes"] for p in manifest["partitions"]] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert len(manifest["probe"]) == 40 and len(set(manifest["probe"])) == 40
    assert sorted(np.bincount(manifest["probe_labels"])) == [4] * 10
    assert len(manifest["fingerprint"]) == 16


def test_imp_rounds_follow_the_density_schedule_and_keep_pruned_weights_zero(run):
    _, P = run
    for part in PARTS:
        previous = None
        for r in range(ROUNDS + 1):
            mask = load_file(P.imp("mask.safetensors", "dilt", part, r, 0))
            trained = load_file(P.imp("trained.safetensors", "dilt", part, r, 0))
            metrics = read_json(P.imp("metrics.json", "dilt", part, r, 0))
            assert sorted(mask) == sorted(f"{x}.weight" for x in LAYERS)
            total = sum(m.size for m in mask.values())
            kept = sum(int(m.sum()) for m in mask.values())
            assert abs(kept - total * (1 - FRACTION) ** r) <= r + 1
            assert metrics["density"] == pytest.approx(kept / total)
            for name, m in mask.items():
                assert m.dtype == bool and m.shape == trained[name].shape
                assert (trained[name][~m] == 0).all()
                if previous is not None:
                    assert not (m & ~previous[name]).any()
            assert metrics["pruned_nonzero"] == 0 and 0 <= metrics["test_acc"] <= 1
            previous = mask


def test_tickets_and_overlap_table(run):
    _, P = run
    for r in (1, 3):
        t = {name: load_file(P.ticket(name, r, 0)) for name in TICKETS[:5]}
        chains = [load_file(P.imp("mask.safetensors", "dilt", p, r, 0)) for p in PARTS]
        for key in chains[0]:
            assert (t["core"][key] == (chains[0][key] & chains[1][key])).all()
            assert (t["union"][key] == (chains[0][key] | chains[1][key])).all()
            assert (t["specialist_p0"][key] == (chains[0][key] & ~chains[1][key])).all()
            assert t["random"][key].sum() == t["union"][key].sum()
        overlap = pd.read_csv(P.overlap(r, 0), sep="\t").set_index("layer")
        assert list(overlap.columns) == ["params", "density_p0", "density_p1", "jaccard",
                                         "chance_jaccard", "jaccard_corrected", "core_density",
                                         "union_density"]
        one = overlap.loc["conv2.weight"]
        assert one["jaccard_corrected"] == pytest.approx(
            (one["jaccard"] - one["chance_jaccard"]) / (1 - one["chance_jaccard"]), abs=1e-5)
        assert set(overlap.index) == {f"{x}.weight" for x in LAYERS} | {"all"}
        assert (overlap["core_density"] <= overlap["union_density"]).all()


def test_retrained_tickets_report_accuracy_per_split(run):
    _, P = run
    table = pd.read_csv(P.table("retrain"), sep="\t")
    same = table[table["view"] == "round"]
    assert len(same) == len(SAME_ROUND) * 2 + 1  # two rounds, and dense
    for col in ["ticket", "view", "round", "target_sparsity", "seed", "sparsity", "density",
                "acc_all", "acc_p0", "acc_p1", "acc_class0", "chance", "empty_layers"]:
        assert col in table.columns
    at3 = same[same["round"] == 3].set_index("ticket")["density"]
    assert at3["core"] <= at3["mask_p0"] <= at3["union"]
    for ticket, control in [("union", "random"), ("core", "random_core"),
                            ("specialist_p1", "random_specialist_p1"), ("lth", "random_lth")]:
        assert at3[control] == pytest.approx(at3[ticket])
    dense = read_json(P.retrain("dense", "round0", 0))
    assert dense["density"] == 1.0 and dense["start_step"] == 0


def test_matched_view_holds_every_feasible_ticket_at_its_target_density(run):
    _, P = run
    table = pd.read_csv(P.table("retrain"), sep="\t")
    matched = table[table["view"] == "matched"].set_index("ticket")
    assert sorted(matched.index) == sorted(MATCHED)
    assert (matched["target_sparsity"] == TARGET).all()
    assert ((matched["sparsity"] - TARGET).abs() <= 0.01).all()
    record = pd.read_csv(Path(P.matching(0)) / "matching.tsv", sep="\t").set_index("ticket")
    assert not record.loc["specialist_p0", "feasible"]  # far sparser than 0.7 density
    assert "no round keeps density" in record.loc["specialist_p0", "reason"]
    core = load_file(P.matched("core", TARGET, 0))
    source = load_file(P.ticket("core", int(record.loc["core", "source_round"]), 0))
    assert all(not (core[k] & ~source[k]).any() for k in core)  # trimmed, never topped up
    rewound = read_json(P.retrain("core", "sparsity0.3", 0))
    assert rewound["start_step"] == 2  # tests/tiny.yaml rewinds to step 2
    assert read_json(P.retrain("snip", "sparsity0.3", 0))["start_step"] == 0


def test_distance_matrices_and_gw_table(run):
    _, P = run
    for part in PARTS:
        with np.load(P.analysis(f"distances_{part}.npz", 3, 0)) as npz:
            assert list(npz.files) == LAYERS
            for name in LAYERS:
                m = npz[name]
                assert m.dtype == np.float32 and m.shape == (40, 40)
                assert np.allclose(m, m.T) and np.allclose(np.diag(m), 0)
    gw = pd.read_csv(P.analysis("gw.tsv", 3, 0), sep="\t", index_col=0)
    labels = [f"{p}:{x}" for p in PARTS for x in LAYERS]
    assert list(gw.index) == labels and list(gw.columns) == labels
    values = gw.to_numpy()
    assert np.allclose(values, values.T) and np.allclose(np.diag(values), 0)
    assert (values >= 0).all()


def test_clusters_blocks_and_correlation(run):
    _, P = run
    clusters = pd.read_csv(P.analysis("clusters.tsv", 3, 0), sep="\t")
    assert list(clusters.columns) == ["node", "part", "layer", "depth", "cluster"]
    assert len(clusters) == 12 and clusters["cluster"].nunique() >= 1
    blocks = pd.read_csv(P.analysis("blocks.tsv", 3, 0), sep="\t")
    assert {"cluster", "n_layers", "layers", "mean_jaccard", "mean_gw", "mean_chance_jaccard",
            "jaccard_corrected"} <= set(blocks.columns)
    assert blocks["n_layers"].sum() == len(LAYERS)
    corr = read_json(P.analysis("correlation.json", 3, 0))
    assert -1 <= corr["spearman_rho"] <= 1 and 0 < corr["p_value"] <= 1
    assert -1 <= corr["rho_corrected"] <= 1 and 0 < corr["p_density_null"] <= 1
    assert corr["n_layers"] == len(LAYERS) and corr["permutations"] == 199
    dense = read_json(P.analysis("correlation.json", 0, 0))
    assert dense["reason"].startswith("dense round") and np.isnan(dense["spearman_rho"])


def test_figures_exist(run):
    _, P = run
    for fig in ["fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars", "acc_vs_sparsity",
                "specialist_heatmap", "specialist_controls", "imp_accuracy", "acc_vs_round",
                "acc_vs_time", "per_class_accuracy", "transfer_bars"]:
        assert Path(P.figure(fig, "pdf")).read_bytes()[:4] == b"%PDF"
        assert Path(P.figure(fig, "png")).read_bytes()[:4] == b"\x89PNG"


def load_round(P, method, part, r, name):
    return load_file(P.imp(name, method, part, r, 0))


def test_colt_chains_train_under_the_and_of_their_pruned_masks(run):
    _, P = run
    for r in range(1, ROUNDS + 1):
        shared = [load_round(P, "colt", p, r, "mask.safetensors") for p in PARTS]
        previous = [load_round(P, "colt", p, r - 1, "mask.safetensors") for p in PARTS]
        trained = [load_round(P, "colt", p, r - 1, "trained.safetensors") for p in PARTS]
        each = [magnitude_prune({k: torch.from_numpy(w[k]) for k in m},
                                {k: torch.from_numpy(v) for k, v in m.items()}, FRACTION)
                for w, m in zip(trained, previous, strict=True)]
        for key in shared[0]:
            assert (shared[0][key] == shared[1][key]).all()
            assert (shared[0][key] == (each[0][key] & each[1][key]).numpy()).all()
            for p in PARTS:
                final = load_round(P, "colt", p, r, "trained.safetensors")
                assert (final[key][~shared[0][key]] == 0).all()
    assert sum(m.sum() for m in shared[0].values()) < sum(
        m.sum() for m in load_round(P, "lth", "full", ROUNDS, "mask.safetensors").values())


def test_late_rewinding_point_is_kept_by_round_zero(run):
    _, P = run
    init = load_file(P.init(0))
    for method, parts in CHAINS.items():
        for part in parts:
            rewind = load_round(P, method, part, 0, "rewind.safetensors")
            assert rewind.keys() == init.keys()
            assert not (rewind["conv1.weight"] == init["conv1.weight"]).all()
            for r in range(ROUNDS + 1):
                metrics = read_json(P.imp("metrics.json", method, part, r, 0))
                assert metrics["rewind_step"] == 2 and metrics["fraction"] == FRACTION
                # rounds >= 1 continue the schedule from the rewind point (open_lth)
                assert metrics["start_step"] == (0 if r == 0 else 2)
                assert metrics["steps"] == read_json(
                    P.imp("metrics.json", method, part, 0, 0))["steps"]


def test_baseline_masks_keep_the_target_density(run):
    _, P = run
    lth = load_file(P.matched("lth", TARGET, 0))
    total = sum(m.size for m in lth.values())
    for name in ["random_global", "snip", "grasp", "rigl"]:
        mask = load_file(P.baseline(name, TARGET, 0))
        assert {k: (m.dtype, m.shape) for k, m in mask.items()} == {
            k: (np.dtype(bool), m.shape) for k, m in lth.items()}
        kept = sum(int(m.sum()) for m in mask.values())
        assert abs(kept - total * (1 - TARGET)) <= len(mask), name
    per_layer = load_file(P.matched("random_lth", TARGET, 0))
    assert all(per_layer[k].sum() == lth[k].sum() for k in lth)
    assert any((per_layer[k] != lth[k]).any() for k in lth)


def test_exp1_tables_of_both_views(run):
    _, P = run
    table = pd.read_csv(P.table("exp1"), sep="\t")
    assert list(table.columns) == [
        "method", "ticket", "seed", "target_sparsity", "feasible", "density", "sparsity",
        "accuracy", "chance", "empty_layers", "source_round", "rounds", "serial_seconds",
        "parallel_seconds", "train_steps"]
    found = table[table["feasible"] & (table["ticket"] != "dense")].set_index("ticket")
    assert sorted(found.index) == sorted(MATCHED)
    assert ((found["sparsity"] - found["target_sparsity"]).abs() <= 0.01).all()
    assert (found["serial_seconds"] > 0).all()
    assert (found["parallel_seconds"] <= found["serial_seconds"]).all()
    assert found.loc["core", "parallel_seconds"] < found.loc["core", "serial_seconds"]
    assert found.loc["reinit_lth", "serial_seconds"] == found.loc["lth", "serial_seconds"]
    assert set(table.loc[~table["feasible"], "ticket"]) >= {"specialist_p0", "specialist_p1"}
    same = pd.read_csv(P.table("exp1_same_round"), sep="\t")
    retrain, imp = same[same["stage"] == "retrain"], same[same["stage"] == "imp"]
    assert len(retrain) == len(SAME_ROUND) * 2 + 1
    assert len(imp) == sum(len(p) for p in CHAINS.values()) * (ROUNDS + 1)
    by = retrain[retrain["ticket"] != "dense"].set_index(["ticket", "round"])["find_seconds"]
    assert by[("lth", 3)] > by[("lth", 1)] and by[("core", 3)] > by[("mask_p0", 3)]


def test_experiment_3_and_comparison_tables(run):
    _, P = run
    exp3 = pd.read_csv(P.table("exp3"), sep="\t")
    assert set(exp3["ticket"]) == {"specialist_p0", "specialist_p1", "core"}
    assert set(exp3["split"]) == {"all", "p0", "p1"} and set(exp3["round"]) == {1, 3}
    assert np.allclose(exp3["difference"], exp3["acc_ticket"] - exp3["acc_control"])
    comparisons = pd.read_csv(P.table("comparisons"), sep="\t")
    for col in ["comparison", "split", "target_sparsity", "diff_mean", "ci_low", "ci_high",
                "p_value", "n_seeds"]:
        assert col in comparisons.columns
    headline = comparisons[comparisons["view"] == "matched"].set_index("comparison")
    assert set(headline.index) == {"union_vs_colt", "union_vs_core", "core_vs_lth",
                                   "lth_vs_random", "union_vs_rigl"}
    assert (comparisons["n_seeds"] == 1).all()  # one seed: no CI or p-value
    assert comparisons["ci_low"].isna().all() and comparisons["p_value"].isna().all()


def test_exp4_transfer_table(run):
    _, P = run
    info = read_json(P.transfer_target("dataset.json", "mnist1d"))
    assert info["input_shape"] == [1, 8, 8] and info["num_classes"] == 10
    assert (info["n_train"], info["n_test"]) == (240, 60)
    table = pd.read_csv(P.table("exp4"), sep="\t")
    assert list(table.columns) == ["target", "ticket", "seed", "round", "density", "sparsity",
                                   "acc", "chance", "init_seed", "train_acc", "train_loss"]
    assert sorted(table["ticket"]) == ["core", "dense", "lth", "random", "union"]
    assert (table["target"] == "mnist1d").all() and table["init_seed"].nunique() == 1
    at3 = table.set_index("ticket")["density"]
    assert at3["core"] <= at3["lth"] <= at3["union"] == pytest.approx(at3["random"])
    assert at3["dense"] == 1.0 and table.loc[table["ticket"] == "dense", "round"].item() == 0


def test_report_bundles_every_figure_and_table_with_captions(run):
    workdir, P = run
    report = Path(P.results) / "report.html"  # where `make report` writes it
    snakemake(workdir, "--report", str(report))
    html = report.read_text(errors="replace")
    captions = Path(__file__).resolve().parents[1] / "workflow" / "report"
    for fig in ["fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars", "acc_vs_sparsity",
                "specialist_heatmap", "imp_accuracy", "compute_cost", "acc_vs_round",
                "acc_vs_time", "per_class_accuracy", "transfer_bars"]:
        assert f"{fig}.png" in html
        assert " ".join((captions / f"{fig}.rst").read_text().split()[:4]) in html
    for table in ["retrain", "imp", "exp1", "exp4", "cost"]:
        assert f"tables/{table}.tsv" in html
        assert " ".join((captions / f"table_{table}.rst").read_text().split()[:4]) in html


def test_too_late_rewind_step_names_the_key(tmp_path):
    override = tmp_path / "late.yaml"
    override.write_text("imp: {rewind_step: 100000}\n")
    target = Paths("tiny").imp("rewind.safetensors", "lth", "full", 0, 0)
    proc = snakemake(tmp_path, target, configfiles=[TINY, override], check=False)
    assert proc.returncode != 0
    log = Path(Paths("tiny", tmp_path).log("seed0/imp/lth/full/round0"))
    assert "imp.rewind_step: 100000 is not below the" in log.read_text()
    assert not (tmp_path / target).exists()


def test_second_run_has_nothing_to_do(run):
    workdir, _ = run
    proc = snakemake(workdir, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_passes(tmp_path):
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
