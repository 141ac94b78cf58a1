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
IMP_TICKETS = [m for m in ("lth", "colt") if m in config["imp"]["methods"]]
BASELINES = config["baselines"]["methods"]
REINIT = [f"reinit_{t}" for t in config["baselines"]["reinit"]]
RETRAIN_TICKETS = [*TICKET_FILES, *[f"mask_{p}" for p in PARTS], *IMP_TICKETS, *BASELINES,
                   *REINIT]
TARGET = config["transfer"]["target"]
TRANSFER_ROUNDS = settings.transfer_rounds(config) if TARGET else []
MASK_ROUNDS = sorted(set(RETRAIN_ROUNDS) | set(TRANSFER_ROUNDS))
TRAIN_THREADS = config["threads"]


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    method="dilt|colt|lth",
    part=r"p\d+|full",
    ticket=r"[a-z0-9_]+",


def method_parts(method):
    return ["full"] if method == "lth" else PARTS


def imp_file(method, part, rnd, name, seed="{seed}"):
    """results/{experiment}/seed{s}/imp/{method}/{part}/round{r}/{name}"""
    return f"{OUT}/seed{seed}/imp/{method}/{part}/round{rnd}/{name}"


def imp_inputs(wc):
    """Round 0 starts from theta0; round r > 0 from the chain's rewind point (written by its
    round 0) and needs round r-1 of this chain (colt: of every chain)."""
    r = int(wc.round)
    start = (f"{OUT}/seed{wc.seed}/init.safetensors" if r == 0
             else imp_file(wc.method, wc.part, 0, "rewind.safetensors", wc.seed))
    inputs = {"start": start, "data": f"{OUT}/data.safetensors",
              "partitions": f"{OUT}/partitions.json"}
    if r > 0:
        sources = PARTS if wc.method == "colt" else [wc.part]
        for p in sources:
            for name in ("mask", "trained"):
                inputs[f"{name}_{p}"] = imp_file(wc.method, p, r - 1, f"{name}.safetensors",
                                                 wc.seed)
    return inputs


def imp_fraction(wc):
    """Per-round pruning fraction of a method: imp.colt_fraction (if set) for COLT."""
    if wc.method == "colt" and config["imp"]["colt_fraction"] is not None:
        return config["imp"]["colt_fraction"]
    return config["imp"]["fraction"]


def baseline_file(name, rnd="{round}", seed="{seed}"):
    """results/{experiment}/seed{s}/baselines/round{r}/{name}.safetensors"""
    return f"{OUT}/seed{seed}/baselines/round{rnd}/{name}.safetensors"


def random_inputs(wc):
    """theta0 (for the layer shapes) and, for random_lth, LTH's masks of the compared rounds."""
    inputs = {"init": f"{OUT}/seed{wc.seed}/init.safetensors",
              "partitions": f"{OUT}/partitions.json"}
    if wc.kind == "random_lth":
        inputs["reference"] = [imp_file("lth", "full", r, "mask.safetensors", wc.seed)
                               for r in MASK_ROUNDS]
    return inputs


def mask_of(ticket, rnd, seed):
    """The mask file a ticket name stands for (dense: none; reinit_X: the mask of X)."""
    ticket = ticket.removeprefix("reinit_")
    if ticket == "dense":
        return []
    if ticket.startswith("mask_"):
        return imp_file("dilt", ticket[5:], rnd, "mask.safetensors", seed)
    if ticket in ("lth", "colt"):
        return imp_file(ticket, method_parts(ticket)[0], rnd, "mask.safetensors", seed)
    if ticket in ("random_global", "random_lth", "snip", "grasp", "rigl"):
        return baseline_file(ticket, rnd, seed)
    return f"{OUT}/seed{seed}/tickets/round{rnd}/{ticket}.safetensors"


def ticket_file(wc):
    """The mask a retrain or transfer job trains under (none for the dense network)."""
    return mask_of(wc.ticket, wc.round, wc.seed)


def retrain_jsons():
    jsons = expand(f"{OUT}/seed{{seed}}/retrain/{{ticket}}/round{{round}}.json",
                   seed=SEEDS, ticket=RETRAIN_TICKETS, round=RETRAIN_ROUNDS)
    return jsons + expand(f"{OUT}/seed{{seed}}/retrain/dense/round0.json", seed=SEEDS)


def transfer_jobs(pattern):
    """`pattern` filled in for every transfer job: ticket x round x seed (dense: round 0)."""
    tickets = config["transfer"]["tickets"]
    files = expand(pattern, seed=SEEDS, target=TARGET, round=TRANSFER_ROUNDS,
                   ticket=[t for t in tickets if t != "dense"])
    if "dense" in tickets:
        files += expand(pattern, seed=SEEDS, target=TARGET, ticket="dense", round=0)
    return files


def benchmark_index():
    """Benchmark file of every job that finds a mask, with what it found (for exp1.tsv)."""
    rows = [{"path": f"benchmarks/{EXP}/seed{s}/imp/{m}/{p}/round{r}.tsv", "seed": s,
             "job": m, "part": p, "round": r}
            for m in config["imp"]["methods"] for p in method_parts(m)
            for r in range(LAST + 1) for s in SEEDS]
    for name in BASELINES:
        for s in SEEDS:
            if name == "rigl":
                rows += [{"path": f"benchmarks/{EXP}/seed{s}/baselines/rigl/round{r}.tsv",
                          "seed": s, "job": name, "part": "full", "round": r}
                         for r in RETRAIN_ROUNDS]
            else:
                rows.append({"path": f"benchmarks/{EXP}/seed{s}/baselines/{name}.tsv",
                             "seed": s, "job": name, "part": "full", "round": None})
    return rows


def imp_metrics():
    return [imp_file(m, p, r, "metrics.json", s)
            for m in config["imp"]["methods"] for p in method_parts(m)
            for r in range(LAST + 1) for s in SEEDS]


FIGURES = ["fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars",
           "acc_vs_sparsity", "specialist_heatmap", "imp_accuracy", "compute_cost"]


# Tickets drawn in the experiment-1 figures (per-partition tickets are experiment 3's).
COMPARED = ["core", "union", "random", *IMP_TICKETS, *BASELINES, *REINIT, "dense"]
FIGURES += ["acc_vs_round", "acc_vs_time", "per_class_accuracy"]
FIGURES += ["transfer_bars"] if TARGET else []


def all_outputs():
    figs = expand(f"{OUT}/figures/{{fig}}.{{ext}}", fig=FIGURES, ext=["pdf", "png"])
    analysis = expand(f"{OUT}/seed{{seed}}/gw/round{{round}}/{{name}}", seed=SEEDS,
                      round=GW_ROUNDS, name=["blocks.tsv", "correlation.json"])
    tables = ["retrain", "imp", "cost", "exp1", *(["exp4"] if TARGET else [])]
    return figs + analysis + [f"{OUT}/tables/{name}.tsv" for name in tables]


def fig_outputs(name, category=None):
    """The figure as PDF and PNG; the PNG goes into the report with workflow/report/{name}.rst."""
    png, caption = f"{OUT}/figures/{name}.png", f"../workflow/report/{name}.rst"
    return [f"{OUT}/figures/{name}.pdf", report(png, caption=caption, category=category)]


def round_files(name, rnd=FIG_ROUND):
    """One analysis table of the figure round for every seed."""
    return expand(f"{OUT}/seed{{seed}}/gw/round{rnd}/{name}", seed=SEEDS)


def benchmarks(wc):
    """{rule: benchmark files} of every compute job of the full DAG (see rules/cost.smk)."""

    def imp(rule, rounds):
        return [f for m in config["imp"]["methods"]
                for f in expand(rule.benchmark, seed=SEEDS, method=m, part=method_parts(m),
                                round=rounds)]

    retrain = expand(rules.retrain.benchmark, seed=SEEDS, round=RETRAIN_ROUNDS,
                     ticket=[t for t in RETRAIN_TICKETS if t != "rigl"])
    return {
        "partitions": [rules.partitions.benchmark],
        "imp_dense": imp(rules.imp_dense, [0]),
        "imp_round": imp(rules.imp_round, range(1, LAST + 1)),
        "retrain": retrain + expand(rules.retrain.benchmark, seed=SEEDS, ticket="dense", round=0),
        "random_masks": expand(rules.random_masks.benchmark, seed=SEEDS,
                               kind=[b for b in BASELINES if b.startswith("random")]),
        "saliency_masks": expand(rules.saliency_masks.benchmark, seed=SEEDS,
                                 kind=[b for b in BASELINES if b in ("snip", "grasp")]),
        "rigl": expand(rules.rigl.benchmark, seed=SEEDS,
                       round=RETRAIN_ROUNDS if "rigl" in BASELINES else []),
        "transfer": transfer_jobs(rules.transfer.benchmark) if TARGET else [],
        "distances": expand(rules.distances.benchmark, seed=SEEDS, round=GW_ROUNDS, part=PARTS),
        "gw": expand(rules.gw.benchmark, seed=SEEDS, round=GW_ROUNDS),
    }
