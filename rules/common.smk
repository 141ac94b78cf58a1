# Config checks, the study's values, paths and input functions shared by every rule file.
# What a ticket is lives in dilt/methods.py, what a dataset is in dilt/datasets.py, where a
# file lives in dilt/paths.py: this file only combines them with the config.
import sys

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from dilt import configuration, methods, scheduling  # noqa: E402
from dilt.io import DiltError  # noqa: E402
from dilt.methods import MATCHED, ROUND  # noqa: E402
from dilt.paths import Paths, point_name  # noqa: E402

try:  # --config values typed as YAML, schema defaults, every check: before the first job
    configuration.load(
        config,
        str(Path(workflow.basedir) / "config" / "schema.yaml"),
        workflow.config_settings.config_args,
    )
    scheduling.check(config)
except DiltError as exc:
    raise WorkflowError(f"config error: {exc}") from None

P = Paths(config["experiment"])
SEEDS = config["seeds"]
PARTS = [f"p{i}" for i in range(config["partitions"]["k"])]
IMP_METHODS = config["imp"]["methods"]
LAST = config["imp"]["rounds"]
REWIND_STEP = config["imp"]["rewind_step"]
RETRAIN_ROUNDS = configuration.retrain_rounds(config)  # same-round view (experiment 3)
TARGETS = configuration.targets(config)  # matched view (experiment 1): target sparsities
RETRAIN_START = configuration.retrain_start(config)
GW_ROUNDS = configuration.gw_rounds(config)
FIG_ROUND = configuration.figure_round(config)
BASELINES = config["baselines"]["methods"]
REINIT = config["baselines"]["reinit"]
ROUND_TICKETS = methods.retrained(ROUND, PARTS, IMP_METHODS, BASELINES)
MATCHED_TICKETS = methods.retrained(MATCHED, PARTS, IMP_METHODS, BASELINES, REINIT)
ROUND_MADE = methods.written_together(ROUND, PARTS, IMP_METHODS, BASELINES)  # rule tickets
# IMP chains' masks that a same-round control takes its per-layer counts from (LTH, COLT)
ROUND_REFERENCES = sorted(
    {
        ref
        for ref in (methods.parse(t).reference for t in ROUND_MADE)
        if ref and methods.parse(ref).method.kind == methods.IMP_CHAIN
    }
)
MATCH_MADE = methods.written_together(MATCHED, PARTS, IMP_METHODS, BASELINES)  # rule match
TARGET = config["transfer"]["target"]
TRANSFER_ROUNDS = configuration.transfer_rounds(config) if TARGET else []
TICKET_ROUNDS = sorted(set(RETRAIN_ROUNDS) | set(TRANSFER_ROUNDS))
DENSITIES = configuration.schedules(config)
TRAIN_THREADS = config["threads"]
# The model's settings as the rules pass them on: imp.head_rate decides whether the output
# layer is prunable (dilt.models.prunable_layers).
MODEL = {**config["model"], "head_rate": config["imp"]["head_rate"]}
PREPARED_SIDE = configuration.prepared_side(config)  # dataset.prepared: the stored image side
VIT_HEADS = configuration.vit_heads(config)  # heads per block of a ViT, None for other models
# The data's location is no part of any result: jobs read dataset.data_root from the config.
DATASET = {k: v for k, v in config["dataset"].items() if k != "data_root"}


wildcard_constraints:
    seed=r"\d+",
    round=r"\d+",
    sparsity=r"0\.\d+",
    method="|".join(methods.IMP_METHODS),
    part=r"p\d+|full",
    ticket=r"[a-z0-9_]+",


def job_threads(kind):
    """Threads of a compute job of `kind` (dilt.scheduling; config section resources)."""
    return scheduling.threads(config, kind)


def job_resources(kind):
    """mem_mb, runtime (growing with the attempt) and, for GPU kinds, gpu of a `kind` job."""
    return scheduling.rule_resources(config, kind)


def job_retries(kind):
    return scheduling.retries(config, kind)


def chains(method):
    """Parts of an IMP method's chains."""
    return methods.chain_parts(method, PARTS)


def prepared_inputs(wc=None):
    """The prepared splits (index.json) a job reading disk images takes when
    dataset.prepared is on; nothing otherwise."""
    if not config["dataset"]["prepared"]:
        return {}
    name = config["dataset"]["name"]
    return {f"prepared_{s}": P.prepared(s, name, PREPARED_SIDE) for s in ("train", "test")}


def imp_inputs(wc):
    """Round 0 starts from theta0; round r > 0 from the chain's rewind point (written by its
    round 0) and needs round r-1 of the chains it prunes from (methods.round_sources)."""
    r = int(wc.round)
    start = (
        P.init(wc.seed) if r == 0 else P.imp("rewind.safetensors", wc.method, wc.part, 0, wc.seed)
    )
    inputs = {"start": start, "data": P.data(), "partitions": P.partitions(), **prepared_inputs()}
    if r > 0:
        for p in methods.round_sources(wc.method, wc.part, PARTS):
            for name in ("mask", "trained"):
                inputs[f"{name}_{p}"] = P.imp(f"{name}.safetensors", wc.method, p, r - 1, wc.seed)
    return inputs


def chain_files(name, rounds, seed="{seed}"):
    """{method: [[file of each chain] per round]} of every enabled IMP method."""
    return {
        m: [[P.imp(name, m, p, r, seed) for p in chains(m)] for r in rounds] for m in IMP_METHODS
    }


def mask_of(ticket, point, seed):
    """The mask file a ticket trains under at a point (none for the dense network)."""
    return methods.mask_path(P, ticket, point, seed) or []


def round_mask(wc):
    """Mask of a same-round retrain or transfer job."""
    return mask_of(wc.ticket, (ROUND, int(wc.round)), wc.seed)


def matched_mask(wc):
    """Mask of a matched retrain job; an IMP-derived one exists once the seed's match
    checkpoint has run."""
    if methods.parse(wc.ticket).imp_derived:
        checkpoints.match.get(seed=wc.seed)
    return mask_of(wc.ticket, (MATCHED, wc.sparsity), wc.seed)


def matched_start(wc):
    """Start weights of a matched retrain job: LTH's rewind point for IMP-derived tickets
    under retrain.start rewind, the pruned weights of a baseline that writes them (CAP,
    SAViT), theta0 otherwise (re-initialised tickets: another seed's)."""
    ticket = methods.parse(wc.ticket)
    if ticket.method.weights:
        return P.baseline_weights(ticket.method.name, wc.sparsity, wc.seed)
    if RETRAIN_START == "rewind" and ticket.imp_derived and not ticket.reinit:
        return P.imp("rewind.safetensors", "lth", "full", 0, wc.seed)
    return P.init(wc.seed)


def matched_start_step(wc):
    ticket = methods.parse(wc.ticket)
    rewound = RETRAIN_START == "rewind" and ticket.imp_derived and not ticket.reinit
    return REWIND_STEP if rewound else 0


def feasible(seed):
    """{target sparsity: IMP-derived tickets matched at it} of a seed, read from its match
    checkpoint's matching.tsv."""
    import pandas as pd

    path = Path(checkpoints.match.get(seed=seed).output[0]) / "matching.tsv"
    table = pd.read_csv(path, sep="\t")
    table = table[table["feasible"]]
    return {s: set(table.loc[table["target_sparsity"] == s, "ticket"]) for s in TARGETS}


def matched_jobs():
    """(seed, ticket, target) of every matched retrain job whose ticket is feasible
    (infeasible tickets are rows of matching.tsv and the exp1 table, not jobs)."""
    jobs = []
    for seed in SEEDS:
        ok = feasible(seed)
        for s in TARGETS:
            for ticket in MATCHED_TICKETS:
                parsed = methods.parse(ticket)
                if not parsed.imp_derived or parsed.mask_ticket in ok[s]:
                    jobs.append((seed, ticket, s))
    return jobs


def matched_results(wc=None):
    return [P.retrain(t, point_name(MATCHED, s), seed) for seed, t, s in matched_jobs()]


def round_results():
    return expand(P.retrain(), seed=SEEDS, ticket=ROUND_TICKETS, round=RETRAIN_ROUNDS) + expand(
        P.retrain("dense", "round0"), seed=SEEDS
    )


def transfer_jobs(pattern):
    """`pattern` filled in for every transfer job: ticket x round x seed (dense: round 0)."""
    tickets = config["transfer"]["tickets"]
    files = expand(
        pattern,
        seed=SEEDS,
        target=TARGET,
        round=TRANSFER_ROUNDS,
        ticket=[t for t in tickets if t != "dense"],
    )
    if "dense" in tickets:
        files += expand(pattern, seed=SEEDS, target=TARGET, ticket="dense", round=0)
    return files


def imp_benchmarks(rule_obj, rounds):
    """Benchmark files of `rounds` of every enabled IMP chain, for a rule running them."""
    return [
        f
        for m in IMP_METHODS
        for f in expand(rule_obj.benchmark, seed=SEEDS, method=m, part=chains(m), round=rounds)
    ]


def baseline_benchmarks(name):
    """(seed, target or None, benchmark file) of the jobs writing baseline `name`: one per
    seed, or one per seed and target for trained-sparse methods."""
    record = methods.RECORDS[name]
    if not record.rule:  # a control: written by the match job
        return []
    targets = TARGETS if record.kind == methods.TRAINED_SPARSE else [None]
    return [
        (
            seed,
            s,
            expand(getattr(rules, record.rule).benchmark, seed=seed, kind=name, sparsity=s)[0],
        )
        for seed in SEEDS
        for s in targets
    ]


def benchmark_index():
    """Benchmark file of every job that finds a mask, with what it found (for exp1.tsv)."""
    rows = [
        {
            "path": expand(rules.imp_round.benchmark, seed=s, method=m, part=p, round=r)[0],
            "seed": s,
            "job": m,
            "part": p,
            "point": r,
        }
        for m in IMP_METHODS
        for p in chains(m)
        for r in range(LAST + 1)
        for s in SEEDS
    ]
    return rows + [
        {"path": path, "seed": seed, "job": name, "part": "full", "point": s}
        for name in BASELINES
        for seed, s, path in baseline_benchmarks(name)
    ]


def baseline_records():
    """Records of the baselines that write weights beside their masks (methods `weights`:
    start weights, the job's training steps, FLOPs), every seed and target."""
    return [
        P.baseline_record(n, s, seed)
        for n in BASELINES
        if methods.RECORDS[n].weights
        for seed in SEEDS
        for s in TARGETS
    ]


def benchmarks(wc):
    """{rule: benchmark files} of every compute job of the full DAG (for the cost table)."""
    files = {
        "partitions": [rules.partitions.benchmark],
        "imp_dense": imp_benchmarks(rules.imp_dense, [0]),
        "imp_round": imp_benchmarks(rules.imp_round, range(1, LAST + 1)),
        "match": expand(rules.match.benchmark, seed=SEEDS),
        "retrain": expand(
            rules.retrain.benchmark, seed=SEEDS, round=RETRAIN_ROUNDS, ticket=ROUND_TICKETS
        )
        + expand(rules.retrain.benchmark, seed=SEEDS, ticket="dense", round=0),
        "retrain_matched": [
            expand(rules.retrain_matched.benchmark, seed=seed, ticket=t, sparsity=s)[0]
            for seed, t, s in matched_jobs()
            if methods.parse(t).method.kind != methods.TRAINED_SPARSE
        ],
        "transfer": transfer_jobs(rules.transfer.benchmark) if TARGET else [],
        "distances": expand(rules.distances.benchmark, seed=SEEDS, round=GW_ROUNDS, part=PARTS),
        "gw": expand(rules.gw.benchmark, seed=SEEDS, round=GW_ROUNDS),
        "prepare_dataset": (
            expand(rules.prepare_dataset.benchmark, split=["train", "test"])
            if config["dataset"]["prepared"]
            else []
        ),
    }
    for name in BASELINES:
        for *_, path in baseline_benchmarks(name):
            files.setdefault(methods.RECORDS[name].rule, []).append(path)
    return files


def imp_metrics():
    return [
        P.imp("metrics.json", m, p, r, s)
        for m in IMP_METHODS
        for p in chains(m)
        for r in range(LAST + 1)
        for s in SEEDS
    ]


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
COMPARED = [t for t in MATCHED_TICKETS if methods.parse(t).part is None] + ["dense"]
FIGURES = [
    "fig1_gw_heatmap",
    "fig2_layer_clusters",
    "fig3_block_bars",
    "acc_vs_sparsity",
    "specialist_heatmap",
    "specialist_controls",
    "imp_accuracy",
    "compute_cost",
    "acc_vs_round",
    "acc_vs_time",
    "per_class_accuracy",
    *(["transfer_bars"] if TARGET else []),
    *(["vit_components"] if VIT_HEADS else []),
]
TABLES = [
    "retrain",
    "imp",
    "cost",
    "exp1",
    "exp1_same_round",
    "exp3",
    "comparisons",
    *(["exp4"] if TARGET else []),
]


def all_outputs():
    figs = [P.figure(f, ext) for f in FIGURES for ext in ("pdf", "png")]
    analysis = [
        P.analysis(name, r, s)
        for s in SEEDS
        for r in GW_ROUNDS
        for name in ("blocks.tsv", "correlation.json")
    ]
    return figs + analysis + [P.table(name) for name in TABLES]
