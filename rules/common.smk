# Shared values, config checks and input functions for every rule file.
import sys

from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from dilt import settings  # noqa: E402
from dilt.io import DiltError  # noqa: E402

SCHEMA = str(Path(workflow.basedir) / "config" / "schema.yaml")
try:
    validate(config, SCHEMA)  # also fills in the schema's defaults
except WorkflowError:
    raise WorkflowError(f"config error: {settings.schema_error(config, SCHEMA)}")
try:
    settings.check(config)
except DiltError as exc:
    raise WorkflowError(f"config error: {exc}")

EXP = config["experiment"]
OUT = f"results/{EXP}"
SEEDS = config["seeds"]
PARTS = [f"p{i}" for i in range(config["partitions"]["k"])]
LAST = config["imp"]["rounds"]
RETRAIN_ROUNDS = settings.retrain_rounds(config)
GW_ROUNDS = settings.gw_rounds(config)
FIG_ROUND = settings.figure_round(config)
SPECIALISTS = [f"specialist_{p}" for p in PARTS]
TICKET_FILES = ["core", "union", *SPECIALISTS, "random"]
RETRAIN_TICKETS = [*TICKET_FILES, *[f"mask_{p}" for p in PARTS]]
TRAIN_THREADS = config["threads"]


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    method="dilt|colt|lth",
    part=r"p\d+|full",


def method_parts(method):
    return ["full"] if method == "lth" else PARTS


def imp_file(method, part, rnd, name, seed="{seed}"):
    """results/{experiment}/seed{s}/imp/{method}/{part}/round{r}/{name}"""
    return f"{OUT}/seed{seed}/imp/{method}/{part}/round{rnd}/{name}"


def imp_inputs(wc):
    """Round r needs theta0 and round r-1 of this chain (colt: of every chain)."""
    inputs = {"init": f"{OUT}/seed{wc.seed}/init.safetensors",
              "data": f"{OUT}/data.safetensors",
              "partitions": f"{OUT}/partitions.json"}
    r = int(wc.round)
    if r > 0:
        sources = PARTS if wc.method == "colt" else [wc.part]
        for p in sources:
            for name in ("mask", "trained"):
                inputs[f"{name}_{p}"] = imp_file(wc.method, p, r - 1, f"{name}.safetensors",
                                                 wc.seed)
    return inputs


def ticket_file(wc):
    """The mask a retrain job trains under (none for the dense network)."""
    if wc.ticket == "dense":
        return []
    if wc.ticket.startswith("mask_"):
        return imp_file("dilt", wc.ticket[5:], wc.round, "mask.safetensors", wc.seed)
    return f"{OUT}/seed{wc.seed}/tickets/round{wc.round}/{wc.ticket}.safetensors"


def retrain_jsons():
    jsons = expand(f"{OUT}/seed{{seed}}/retrain/{{ticket}}/round{{round}}.json",
                   seed=SEEDS, ticket=RETRAIN_TICKETS, round=RETRAIN_ROUNDS)
    return jsons + expand(f"{OUT}/seed{{seed}}/retrain/dense/round0.json", seed=SEEDS)


def imp_metrics():
    return [imp_file(m, p, r, "metrics.json", s)
            for m in config["imp"]["methods"] for p in method_parts(m)
            for r in range(LAST + 1) for s in SEEDS]


FIGURES = ["fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars",
           "acc_vs_sparsity", "specialist_heatmap", "imp_accuracy", "compute_cost"]


def all_outputs():
    figs = expand(f"{OUT}/figures/{{fig}}.{{ext}}", fig=FIGURES, ext=["pdf", "png"])
    analysis = expand(f"{OUT}/seed{{seed}}/gw/round{{round}}/{{name}}", seed=SEEDS,
                      round=GW_ROUNDS, name=["blocks.tsv", "correlation.json"])
    tables = [f"{OUT}/tables/{name}.tsv" for name in ("retrain", "imp", "cost")]
    return figs + analysis + tables


def fig_outputs(name):
    return multiext(f"{OUT}/figures/{name}", ".pdf", ".png")


def round_files(name, rnd=FIG_ROUND):
    """One analysis table of the figure round for every seed."""
    return expand(f"{OUT}/seed{{seed}}/gw/round{rnd}/{name}", seed=SEEDS)


def benchmarks(wc):
    """{rule: benchmark files} of every benchmarked job of the full DAG."""
    imp = [f for m in config["imp"]["methods"]
           for f in expand(rules.imp_round.benchmark, seed=SEEDS, method=m,
                           part=method_parts(m), round=range(LAST + 1))]
    retrain = expand(rules.retrain.benchmark, seed=SEEDS, ticket=RETRAIN_TICKETS,
                     round=RETRAIN_ROUNDS)
    return {
        "partitions": [rules.partitions.benchmark],
        "imp_round": imp,
        "retrain": retrain + expand(rules.retrain.benchmark, seed=SEEDS, ticket="dense", round=0),
        "distances": expand(rules.distances.benchmark, seed=SEEDS, round=GW_ROUNDS, part=PARTS),
        "gw": expand(rules.gw.benchmark, seed=SEEDS, round=GW_ROUNDS),
    }
