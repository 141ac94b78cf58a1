# Config checks, the study's values, paths and input functions shared by every rule file.
# What a ticket is lives in dilt/methods.py, what a dataset is in dilt/datasets.py, where a
# file lives in dilt/paths.py: this file only combines them with the config.
import sys

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from dilt import configuration, methods  # noqa: E402
from dilt.io import DiltError  # noqa: E402
from dilt.paths import Paths  # noqa: E402

try:  # --config values typed as YAML, schema defaults, every check: before the first job
    configuration.load(config, str(Path(workflow.basedir) / "config" / "schema.yaml"),
                       workflow.config_settings.config_args)
except DiltError as exc:
    raise WorkflowError(f"config error: {exc}") from None

P = Paths(config["experiment"])
SEEDS = config["seeds"]
PARTS = [f"p{i}" for i in range(config["partitions"]["k"])]
IMP_METHODS = config["imp"]["methods"]
LAST = config["imp"]["rounds"]
RETRAIN_ROUNDS = configuration.retrain_rounds(config)
GW_ROUNDS = configuration.gw_rounds(config)
FIG_ROUND = configuration.figure_round(config)
BASELINES = config["baselines"]["methods"]
RETRAIN_TICKETS = methods.retrained(PARTS, IMP_METHODS, BASELINES, config["baselines"]["reinit"])
DERIVED_TICKETS = methods.names(methods.by_rule("tickets"), PARTS)
TARGET = config["transfer"]["target"]
TRANSFER_ROUNDS = configuration.transfer_rounds(config) if TARGET else []
MASK_ROUNDS = sorted(set(RETRAIN_ROUNDS) | set(TRANSFER_ROUNDS))
DENSITIES = configuration.schedules(config)
TRAIN_THREADS = config["threads"]


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    method="|".join(methods.IMP_METHODS),
    part=r"p\d+|full",
    ticket=r"[a-z0-9_]+",


def chains(method):
    """Parts of an IMP method's chains."""
    return methods.chain_parts(method, PARTS)


def imp_inputs(wc):
    """Round 0 starts from theta0; round r > 0 from the chain's rewind point (written by its
    round 0) and needs round r-1 of the chains it prunes from (methods.round_sources)."""
    r = int(wc.round)
    start = P.init(wc.seed) if r == 0 else P.imp("rewind.safetensors", wc.method, wc.part, 0,
                                                 wc.seed)
    inputs = {"start": start, "data": P.data(), "partitions": P.partitions()}
    if r > 0:
        for p in methods.round_sources(wc.method, wc.part, PARTS):
            for name in ("mask", "trained"):
                inputs[f"{name}_{p}"] = P.imp(f"{name}.safetensors", wc.method, p, r - 1,
                                              wc.seed)
    return inputs


def mask_of(ticket, rnd, seed):
    """The mask file a ticket trains under (none for the dense network)."""
    return methods.mask_path(P, ticket, rnd, seed) or []


def ticket_mask(wc):
    """The mask a retrain or transfer job trains under."""
    return mask_of(wc.ticket, wc.round, wc.seed)


def random_inputs(wc):
    """theta0 (for the layer shapes) and the masks whose per-layer counts a random baseline
    keeps, at every compared round."""
    inputs = {"init": P.init(wc.seed), "partitions": P.partitions()}
    reference = methods.RECORDS[wc.kind].reference
    if reference:
        inputs["reference"] = [mask_of(reference, r, wc.seed) for r in MASK_ROUNDS]
    return inputs


def baseline_densities(wc=None):
    """Nominal density of every compared round (the DiLT schedule), for one-shot baselines."""
    return [DENSITIES["dilt"][r] for r in MASK_ROUNDS]


def retrain_results():
    return expand(P.retrain(), seed=SEEDS, ticket=RETRAIN_TICKETS, round=RETRAIN_ROUNDS) + \
        expand(P.retrain("dense", 0), seed=SEEDS)


def transfer_jobs(pattern):
    """`pattern` filled in for every transfer job: ticket x round x seed (dense: round 0)."""
    tickets = config["transfer"]["tickets"]
    files = expand(pattern, seed=SEEDS, target=TARGET, round=TRANSFER_ROUNDS,
                   ticket=[t for t in tickets if t != "dense"])
    if "dense" in tickets:
        files += expand(pattern, seed=SEEDS, target=TARGET, ticket="dense", round=0)
    return files


def imp_benchmarks(rule_obj, rounds):
    """Benchmark files of `rounds` of every enabled IMP chain, for a rule running them."""
    return [f for m in IMP_METHODS
            for f in expand(rule_obj.benchmark, seed=SEEDS, method=m, part=chains(m),
                            round=rounds)]


def baseline_benchmarks(name):
    """Benchmark files of the jobs writing baseline `name`: one per seed, or one per seed and
    round for trained-sparse methods."""
    record = methods.RECORDS[name]
    rounds = RETRAIN_ROUNDS if record.kind == methods.TRAINED_SPARSE else [None]
    return [(seed, rnd, expand(getattr(rules, record.rule).benchmark, seed=seed, kind=name,
                               round=rnd)[0])
            for seed in SEEDS for rnd in rounds]


def benchmark_index():
    """Benchmark file of every job that finds a mask, with what it found (for exp1.tsv)."""
    rows = [{"path": expand(rules.imp_round.benchmark, seed=s, method=m, part=p, round=r)[0],
             "seed": s, "job": m, "part": p, "round": r}
            for m in IMP_METHODS for p in chains(m) for r in range(LAST + 1) for s in SEEDS]
    return rows + [{"path": path, "seed": seed, "job": name, "part": "full", "round": rnd}
                   for name in BASELINES for seed, rnd, path in baseline_benchmarks(name)]


def benchmarks(wc):
    """{rule: benchmark files} of every compute job of the full DAG (for the cost table)."""
    files = {
        "partitions": [rules.partitions.benchmark],
        "imp_dense": imp_benchmarks(rules.imp_dense, [0]),
        "imp_round": imp_benchmarks(rules.imp_round, range(1, LAST + 1)),
        "retrain": expand(rules.retrain.benchmark, seed=SEEDS, round=RETRAIN_ROUNDS,
                          ticket=[t for t in RETRAIN_TICKETS
                                  if methods.parse(t).method.kind != methods.TRAINED_SPARSE])
        + expand(rules.retrain.benchmark, seed=SEEDS, ticket="dense", round=0),
        "transfer": transfer_jobs(rules.transfer.benchmark) if TARGET else [],
        "distances": expand(rules.distances.benchmark, seed=SEEDS, round=GW_ROUNDS, part=PARTS),
        "gw": expand(rules.gw.benchmark, seed=SEEDS, round=GW_ROUNDS),
    }
    for name in BASELINES:
        rule_name = methods.RECORDS[name].rule
        files.setdefault(rule_name, []).extend(p for *_, p in baseline_benchmarks(name))
    return files


def imp_metrics():
    return [P.imp("metrics.json", m, p, r, s)
            for m in IMP_METHODS for p in chains(m) for r in range(LAST + 1) for s in SEEDS]


def fig_outputs(name, category=None):
    """The figure as PDF and PNG; the PNG goes into the report with workflow/report/{name}.rst."""
    caption = f"../workflow/report/{name}.rst"
    png = report(P.figure(name, "png"), caption=caption, category=category)
    return [P.figure(name, "pdf"), png]


def table_output(name, category="Tables"):
    """tables/{name}.tsv, in the report with workflow/report/table_{name}.rst."""
    caption = f"../workflow/report/table_{name}.rst"
    return report(P.table(name), caption=caption, category=category)


def round_files(name, rnd=FIG_ROUND):
    """One analysis table of the figure round for every seed (in SEEDS order)."""
    return [P.analysis(name, rnd, s) for s in SEEDS]


# Tickets drawn in the experiment-1 figures (per-partition tickets are experiment 3's).
COMPARED = [t for t in RETRAIN_TICKETS if methods.parse(t).part is None] + ["dense"]
FIGURES = ["fig1_gw_heatmap", "fig2_layer_clusters", "fig3_block_bars", "acc_vs_sparsity",
           "specialist_heatmap", "imp_accuracy", "compute_cost", "acc_vs_round",
           "acc_vs_time", "per_class_accuracy", *(["transfer_bars"] if TARGET else [])]


def all_outputs():
    figs = [P.figure(f, ext) for f in FIGURES for ext in ("pdf", "png")]
    analysis = [P.analysis(name, r, s) for s in SEEDS for r in GW_ROUNDS
                for name in ("blocks.tsv", "correlation.json")]
    tables = ["retrain", "imp", "cost", "exp1", *(["exp4"] if TARGET else [])]
    return figs + analysis + [P.table(name) for name in tables]
