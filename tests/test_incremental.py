"""What reruns after a change, as exact job lists from `snakemake -n` on a finished tiny run.

Snakemake 9's rerun triggers (all on by default): mtime (an input newer than the output),
params (a rule's params value), input (the set of input paths), code (a rule's shell/run text,
or a script file newer than the output) and software-env (the conda env, with --use-conda).
The library under workflow/scripts/dilt/ is imported by scripts, not named by rules: editing
it triggers nothing, which the tests below pin down too.
"""

import shutil

import pandas as pd
import pytest
import yaml
from workflow_run import REPO, TINY, planned_jobs, snakemake

from dilt.paths import Paths

FIG1 = Paths("tiny").figure("fig1_gw_heatmap", "pdf")
TRAINING = {"partitions", "init", "imp_round", "retrain"}
# Files a user may edit; copied with their modification times (shutil.copy2).
REPO_PARTS = ["Snakefile", "rules", "workflow", "config", "envs", "profiles"]


@pytest.fixture
def finished(tiny_run, tmp_path):
    """A copy of the finished tiny run: results, logs, benchmarks and .snakemake metadata."""
    workdir = tmp_path / "run"
    shutil.copytree(tiny_run[0], workdir)
    return workdir


@pytest.fixture
def repo_copy(tmp_path):
    """A copy of the workflow's sources with their modification times, to edit."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in REPO_PARTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, copy / name)
    return copy


def test_finished_run_has_nothing_to_do_for_a_figure(finished):
    assert planned_jobs(finished, FIG1) == {}
    assert planned_jobs(finished) == {}


def test_deleted_figure_reruns_only_its_plot_job(finished):
    (finished / FIG1).unlink()
    assert planned_jobs(finished, FIG1) == {"fig1_gw_heatmap": 1}
    assert planned_jobs(finished) == {"fig1_gw_heatmap": 1, "all": 1}
    snakemake(finished, FIG1)
    assert planned_jobs(finished) == {}, "the regenerated figure made other outputs outdated"


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not once in {path}"
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("change,expected", [
    # a plot setting lives in its rule's params: the params trigger reruns that plot only
    (lambda r: edit(r / "rules/figures.smk", 'cmap="viridis"', 'cmap="magma"'),
     {"fig1_gw_heatmap": 1, "all": 1}),
    # a script newer than its outputs: the code trigger
    (lambda r: (r / "workflow/scripts/fig1_gw_heatmap.py").touch(),
     {"fig1_gw_heatmap": 1, "all": 1}),
    # the library, a rule's docstring, an env file without --use-conda: no trigger at all
    (lambda r: (r / "workflow/scripts/dilt/plotting.py").touch(), {}),
    (lambda r: edit(r / "rules/figures.smk", "Figure 1: GW", "Figure 1: Gromov-Wasserstein"), {}),
    (lambda r: edit(r / "envs/plot.yaml", "seaborn=", "seaborn>="), {}),
], ids=["plot-params", "plot-script", "library", "docstring", "env-file"])
def test_edited_source_reruns_exactly(finished, repo_copy, change, expected):
    assert planned_jobs(finished, repo=repo_copy) == {}, "the copy itself must not trigger"
    change(repo_copy)
    assert planned_jobs(finished, repo=repo_copy) == expected


ANALYSIS_FIGURES = {"fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars"}


@pytest.mark.parametrize("gw,expected", [
    ({"max_clusters": 3},
     {"clusters": 2, "blocks": 2, "fig2_layer_clusters": 1, "fig3_block_bars": 1, "all": 1}),
    ({"permutations": 99}, {"blocks": 2, "fig3_block_bars": 1, "all": 1}),
    ({"figure_round": 0}, {"fig1_gw_heatmap": 1, "fig2_layer_clusters": 1,
                           "fig3_block_bars": 1, "all": 1}),
    # a new analysed round: its distances and GW jobs, and the cost table that sums them
    ({"rounds": [0, 1, -1]}, {"distances": 2, "gw": 1, "clusters": 1, "blocks": 1,
                              "cost_table": 1, "compute_cost": 1, "all": 1}),
], ids=["max_clusters", "permutations", "figure_round", "rounds"])
def test_changed_gw_setting_reruns_analysis_never_training(finished, tmp_path, gw, expected):
    override = tmp_path / "gw.yaml"  # merged over tests/tiny.yaml key by key
    override.write_text(yaml.safe_dump({"gw": gw}))
    jobs = planned_jobs(finished, configfiles=(TINY, override))
    assert jobs == expected
    assert not TRAINING & set(jobs)


GW3 = Paths("tiny").analysis("gw.tsv", 3, 0)


def test_touched_input_reruns_nothing_unless_its_content_changed(finished):
    # mtime trigger: an input newer than the outputs, but for files up to 1 MB only if its
    # checksum differs from the one recorded when the outputs were made
    (finished / GW3).touch()
    assert planned_jobs(finished) == {}
    with open(finished / GW3, "a") as fh:
        fh.write("\n")
    assert planned_jobs(finished) == {"clusters": 1, "blocks": 1, "fig1_gw_heatmap": 1,
                                      "fig2_layer_clusters": 1, "fig3_block_bars": 1, "all": 1}


RANDOM_COLT = '''
RECORDS["random_colt"] = Method("random_colt", "random", CONTROL,
                                "random with COLT's per-layer counts", "colt",
                                reference="colt", baseline=True)
'''


def test_a_method_added_to_the_registry_alone_joins_the_dag_and_the_tables(finished, repo_copy,
                                                                         tmp_path):
    with open(repo_copy / "workflow/scripts/dilt/methods.py", "a") as fh:
        fh.write(RANDOM_COLT)
    override = tmp_path / "baselines.yaml"
    methods = ["random_global", "random_lth", "snip", "grasp", "rigl", "random_colt"]
    override.write_text(yaml.safe_dump({"baselines": {"methods": methods}}))
    configs = (TINY, override)
    jobs = planned_jobs(finished, repo=repo_copy, configfiles=configs)
    # same-round view: the tickets jobs add it, and it is retrained at rounds 1 and 3; a
    # tickets job rewrites every ticket of its round, so the 9 other tickets it writes
    # (core, union, 2 specialists and 5 controls) are retrained again too: 2 x (1 + 9).
    # matched view: the match checkpoint adds it (its retraining is planned after it)
    assert jobs["tickets"] == 2 and jobs["retrain"] == 20 and jobs["match"] == 1
    assert not {"imp_round", "imp_dense", "saliency_masks", "rigl"} & set(jobs)
    snakemake(finished, Paths("tiny").table("exp1"), Paths("tiny").table("exp1_same_round"),
              repo=repo_copy, configfiles=configs)
    paths = Paths("tiny", finished)
    matched = pd.read_csv(paths.table("exp1"), sep="\t").set_index("ticket")
    assert matched.loc["random_colt", "method"] == "random"
    assert matched.loc["random_colt", "parallel_seconds"] == matched.loc["colt",
                                                                         "parallel_seconds"]
    assert matched.loc["random_colt", "density"] == pytest.approx(matched.loc["colt",
                                                                              "density"])
    same = pd.read_csv(paths.table("exp1_same_round"), sep="\t")
    rows = same[same["ticket"] == "random_colt"].set_index("round")
    colt = same[(same["ticket"] == "colt") & (same["stage"] == "retrain")].set_index("round")
    assert list(rows.index) == [1, 3]
    assert rows["density"].to_numpy() == pytest.approx(colt["density"].to_numpy())
