"""Method and ticket registry: one record per kind of compared mask.

Every mask the study retrains is named by a ticket: a record's name (`lth`, `snip`), a
per-partition record with its part (`specialist_p1`, `mask_p0`), or `reinit_` + another
ticket (that ticket's mask from another seed's initialisation). The record says what the
mask is (family, kind), which IMP chains it is made from and how, and which rule writes it.
Rules, input functions, config checks, the time-to-find accounting and script dispatch read
it; adding a pruner is one record here, one library module and one rule.

Tickets are compared in two views. The matched view (experiment 1) compares every ticket at
the same real density, each target of retrain.sparsities (dilt.matching); the same-round view
(experiment 3) compares the IMP-derived tickets and their random controls at the same IMP
round, whatever their densities.
"""

from dataclasses import dataclass

from .io import DiltError

IMP_CHAIN = "imp_chain"            # the mask of one IMP chain
DERIVED = "derived"                # made from the K DiLT chains' masks (core, union, ...)
CONTROL = "control"                # random, with the per-layer counts of a reference ticket
ONE_SHOT = "one_shot"              # one job per seed writes the masks of every target
TRAINED_SPARSE = "trained_sparse"  # one job per target trains sparse, writes its own result
DENSE = "dense"                    # no mask
IMP_METHODS = ("dilt", "colt", "lth")
ROUND, MATCHED = "round", "matched"
REINIT = "reinit_"


@dataclass(frozen=True)
class Method:
    """One kind of mask.

    name: the ticket name (per_part: the prefix of `{name}_p{k}`); family: the `method`
    column of the tables; chains: the IMP method whose chains the mask is made from (its
    masks are needed, their finding time counts), or, for a baseline that prunes a trained
    network, whose round-0 (dense, trained) weights it starts from (that round's finding
    time counts); algebra: how those chains' masks make the ticket (dilt.matching: own,
    core, union, specialist); reference: a control keeps this ticket's per-layer counts;
    rule: the rule writing a baseline's masks; baseline: selectable in baselines.methods;
    score: the dilt.saliency.keep_scores kind of a saliency baseline; weights: the rule also
    writes the pruned network's weights beside each mask (and a JSON record of how it made
    them), and retraining starts from those weights instead of theta0; arch_family: the
    architectures the method applies to (None: any; "vit": the plain timm ViTs of
    dilt.arch_layers.VIT_HEADS).
    """

    name: str
    family: str
    kind: str
    summary: str
    chains: str | None = None
    algebra: str | None = None
    per_part: bool = False
    reference: str | None = None
    rule: str | None = None
    baseline: bool = False
    score: str | None = None
    weights: bool = False
    arch_family: str | None = None

    @property
    def views(self):
        """The views the record's tickets appear in."""
        return (MATCHED,) if self.kind in (ONE_SHOT, TRAINED_SPARSE) else (ROUND, MATCHED)


RECORDS = {m.name: m for m in [
    Method("core", "dilt", DERIVED, "AND of the K DiLT masks", "dilt", "core"),
    Method("union", "dilt", DERIVED, "OR of the K DiLT masks", "dilt", "union"),
    Method("specialist", "dilt", DERIVED, "mask k AND NOT the OR of the others", "dilt",
           "specialist", per_part=True),
    Method("mask", "dilt", IMP_CHAIN, "one DiLT chain's own mask", "dilt", "own",
           per_part=True),
    Method("lth", "lth", IMP_CHAIN, "IMP on all classes (Frankle & Carbin)", "lth", "own"),
    Method("colt", "colt", IMP_CHAIN, "K chains sharing the AND of their pruned masks",
           "colt", "core"),
    Method("random", "random", CONTROL, "random with the union's per-layer counts", "dilt",
           reference="union"),
    Method("random_core", "random", CONTROL, "random with the core's per-layer counts",
           "dilt", reference="core"),
    Method("random_specialist", "random", CONTROL,
           "random with specialist k's per-layer counts", "dilt", per_part=True,
           reference="specialist"),
    Method("random_lth", "random", CONTROL, "random with LTH's per-layer counts", "lth",
           reference="lth", baseline=True),
    Method("random_global", "random", ONE_SHOT, "random over all prunable weights",
           rule="random_masks", baseline=True),
    Method("snip", "snip", ONE_SHOT, "|g w| at theta0 (Lee et al. 2019)",
           rule="saliency_masks", baseline=True, score="snip"),
    Method("grasp", "grasp", ONE_SHOT, "-(H g) w at theta0 (Wang et al. 2020)",
           rule="saliency_masks", baseline=True, score="grasp"),
    Method("rigl", "rigl", TRAINED_SPARSE, "dynamic sparse training (Evci et al. 2020)",
           rule="rigl", baseline=True),
    Method("cap", "cap", ONE_SHOT, "correlation-aware OBS pruning of LTH's trained round 0, "
           "gradual with fine-tuning (Kuznedelev et al. 2023)", "lth", rule="cap",
           baseline=True, weights=True),
    Method("savit", "savit", ONE_SHOT, "structured ViT pruning (heads, neurons, channels) of "
           "LTH's trained round 0 (Zheng et al. 2022)", "lth", rule="savit", baseline=True,
           weights=True, arch_family="vit"),
    Method("dense", "dense", DENSE, "the unpruned network"),
]}


@dataclass(frozen=True)
class Ticket:
    """A parsed ticket name: its record, its partition (per-part records), and whether it
    is the record's mask on another seed's initialisation."""

    name: str
    method: Method
    part: str | None = None
    reinit: bool = False

    @property
    def family(self):
        return "reinit" if self.reinit else self.method.family

    @property
    def mask_ticket(self):
        """The ticket whose mask this one trains (itself unless re-initialised)."""
        return self.name.removeprefix(REINIT)

    @property
    def reference(self):
        """A control's reference ticket (per-part controls: the same part's)."""
        ref = self.method.reference
        return f"{ref}_{self.part}" if ref and self.part else ref

    @property
    def algebra(self):
        """(algebra, chain index) making the ticket from its IMP chains' masks
        (dilt.matching): the chain index of own masks and specialists, None otherwise."""
        k = int(self.part[1:]) if self.part else None
        return self.method.algebra, k

    @property
    def imp_derived(self):
        """Made from IMP chains: an IMP chain's mask, a derived ticket or a control of one."""
        return self.method.kind in (IMP_CHAIN, DERIVED, CONTROL)


def parse(name):
    """The Ticket for a ticket name; DiltError for unknown names."""
    base = name.removeprefix(REINIT)
    prefix, _, part = base.rpartition("_p")
    record = RECORDS.get(prefix)
    if record is not None and record.per_part and part.isdigit():
        ticket = Ticket(name, record, f"p{part}", base != name)
    elif base in RECORDS and not RECORDS[base].per_part:
        ticket = Ticket(name, RECORDS[base], None, base != name)
    else:
        raise DiltError(f"unknown ticket '{name}' (known: {', '.join(known_names())})")
    if ticket.reinit and ticket.method.kind in (DENSE, TRAINED_SPARSE):
        raise DiltError(f"'{name}': only a fixed mask can be re-initialised")
    return ticket


def known_names():
    return [f"{m.name}_p{{k}}" if m.per_part else m.name for m in RECORDS.values()]


def baseline_names():
    """Names selectable in baselines.methods."""
    return [m.name for m in RECORDS.values() if m.baseline]


def by_rule(rule, names=None):
    """Names of the records (among `names`, if given) whose masks `rule` writes."""
    return [m.name for m in RECORDS.values()
            if m.rule == rule and (names is None or m.name in names)]


def names(records, parts):
    """Ticket names of record names, per-partition records expanded over `parts`."""
    return [n for r in records
            for n in ([f"{r}_{p}" for p in parts] if RECORDS[r].per_part else [r])]


def chain_parts(method, parts):
    """Parts of an IMP method's chains: one `full` chain for LTH, one per partition else."""
    return ["full"] if method == "lth" else list(parts)


def round_sources(method, part, parts):
    """Chains whose round r-1 makes round r of chain (method, part): COLT's every chain (the
    shared mask is the AND of all chains' pruned masks), the chain itself otherwise."""
    return list(parts) if method == "colt" else [part]


def retrained(view, parts, imp_methods, baselines, reinit=()):
    """Every ticket retrained in a view at each of its points (dense is retrained once and
    is not listed): the IMP-derived tickets and controls of the enabled IMP methods, the
    selected baselines and, in the matched view, the re-initialised tickets."""
    chosen = [m.name for m in RECORDS.values()
              if view in m.views and m.kind != DENSE
              and (m.chains in imp_methods if m.chains else True)
              and (m.name in baselines if m.baseline else True)]
    tickets = names(chosen, parts)
    return tickets + ([f"{REINIT}{t}" for t in reinit] if view == MATCHED else [])


def written_together(view, parts, imp_methods, baselines):
    """The tickets one job makes from the IMP chains' masks at a point: the derived tickets
    and controls of a round (rule tickets; a chain's own mask is its IMP file), or every
    IMP-derived ticket at a target density (rule match)."""
    kinds = (DERIVED, CONTROL) if view == ROUND else (IMP_CHAIN, DERIVED, CONTROL)
    return [t for t in retrained(view, parts, imp_methods, baselines)
            if parse(t).method.kind in kinds]


def mask_path(paths, name, point, seed):
    """The mask file ticket `name` trains under at `point` (("round", r) or ("matched",
    sparsity)), a dilt.paths.Paths file; None for the dense network."""
    ticket = parse(name)
    record = ticket.method
    view, value = point
    if record.kind == DENSE:
        return None
    if view == MATCHED:
        if ticket.imp_derived:
            return paths.matched(ticket.mask_ticket, value, seed)
        return paths.baseline(record.name, value, seed)
    if record.kind == IMP_CHAIN:  # COLT: every part's file holds the shared mask
        part = ticket.part or chain_parts(record.chains, ["p0"])[0]
        return paths.imp("mask.safetensors", record.chains, part, value, seed)
    return paths.ticket(ticket.mask_ticket, value, seed)


def finders(name, parts):
    """Jobs whose wall-clock finds a ticket's mask: IMP chains as (method, part) (a baseline
    that prunes a trained network: the chain it starts from), and the record's own job
    (one-shot and trained-sparse baselines) or None. None for dense. last_chain_round says
    which of the chains' rounds count."""
    ticket = parse(name)
    record = ticket.method
    if record.kind == DENSE:
        return None
    chains = []
    if record.chains:
        own_chain = record.kind == IMP_CHAIN and record.per_part
        chains = [(record.chains, p) for p in
                  ([ticket.part] if own_chain else chain_parts(record.chains, parts))]
    own = record.name if record.kind in (ONE_SHOT, TRAINED_SPARSE) else None
    return chains, own


def last_chain_round(name, source_round):
    """The last round of its finders' chains that finding a mask took: the source round of
    an IMP-derived ticket (None: not matched, -1), round 0 for a baseline that prunes a
    chain's trained round 0, -1 (no round) otherwise."""
    ticket = parse(name)
    if ticket.imp_derived:
        return -1 if source_round is None else source_round
    return 0 if ticket.method.chains else -1


def start_weights(paths, name, seed="{seed}"):
    """The trained dense weights a baseline with `chains` prunes: round 0 of its IMP
    method's first chain (LTH: `full`)."""
    record = RECORDS[name]
    part = chain_parts(record.chains, ["p0"])[0]
    return paths.imp("trained.safetensors", record.chains, part, 0, seed)


def check_tickets(key, names, imp_methods, k):
    """Raise DiltError naming config `key` unless every ticket is known, comes from an
    enabled IMP method and names an existing partition."""
    for name in names:
        try:
            ticket = parse(name)
        except DiltError as exc:
            raise DiltError(f"{key}: {exc}") from None
        needs = ticket.method.chains
        if needs and needs not in imp_methods:
            raise DiltError(f"{key}: '{name}' needs '{needs}' in imp.methods")
        if ticket.part is not None and int(ticket.part[1:]) >= k:
            raise DiltError(f"{key}: '{name}' names a partition beyond partitions.k = {k}")
