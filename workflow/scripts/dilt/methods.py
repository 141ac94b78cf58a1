"""Method and ticket registry: one record per kind of compared mask.

Every mask the study retrains is named by a ticket: a record's name (`lth`, `snip`), a
per-partition record with its part (`specialist_p1`, `mask_p0`), or `reinit_` + another
ticket (that ticket's mask from another seed's initialisation). The record says what the
mask is (family, kind), which IMP chains it is made from, and which rule writes it. Rules,
input functions, config checks, the time-to-find accounting and script dispatch read it;
adding a pruner is one record here, one library module and one rule.
"""

from dataclasses import dataclass

from .io import DiltError

IMP_CHAIN = "imp_chain"            # the mask of one IMP chain at a round
DERIVED = "derived"                # made from the K DiLT masks of a round (rule tickets)
ONE_SHOT = "one_shot"              # one job per seed writes the masks of every compared round
TRAINED_SPARSE = "trained_sparse"  # one job per round trains sparse and writes its own result
DENSE = "dense"                    # no mask
IMP_METHODS = ("dilt", "colt", "lth")
REINIT = "reinit_"


@dataclass(frozen=True)
class Method:
    """One kind of mask.

    name: the ticket name (per_part: the prefix of `{name}_p{k}`); family: the `method`
    column of the experiment tables; chains: the IMP method whose chains the mask is made
    from (its masks are needed, and their finding time counts); rule: the rule writing the
    mask (IMP chains: imp_round; derived: tickets); baseline: selectable in
    baselines.methods; reference: a random mask keeps this ticket's per-layer counts (None:
    uniform over all weights); score, removes_highest: saliency_masks ranks weights by
    dilt.saliency.<score> and keeps the highest (or removes them).
    """

    name: str
    family: str
    kind: str
    summary: str
    chains: str | None = None
    per_part: bool = False
    rule: str | None = None
    baseline: bool = False
    reference: str | None = None
    score: str | None = None
    removes_highest: bool = False


RECORDS = {m.name: m for m in [
    Method("core", "dilt", DERIVED, "AND of the K DiLT masks", "dilt", rule="tickets"),
    Method("union", "dilt", DERIVED, "OR of the K DiLT masks", "dilt", rule="tickets"),
    Method("specialist", "dilt", DERIVED, "mask k AND NOT the OR of the others", "dilt",
           per_part=True, rule="tickets"),
    Method("random", "random", DERIVED, "random with the union's per-layer counts", "dilt",
           rule="tickets", reference="union"),
    Method("mask", "dilt", IMP_CHAIN, "one DiLT chain's own mask", "dilt", per_part=True,
           rule="imp_round"),
    Method("lth", "lth", IMP_CHAIN, "IMP on all classes (Frankle & Carbin)", "lth",
           rule="imp_round"),
    Method("colt", "colt", IMP_CHAIN, "K chains sharing the AND of their pruned masks",
           "colt", rule="imp_round"),
    Method("random_global", "random", ONE_SHOT, "random over all prunable weights",
           rule="random_masks", baseline=True),
    Method("random_lth", "random", ONE_SHOT, "random with LTH's per-layer counts", "lth",
           rule="random_masks", baseline=True, reference="lth"),
    Method("snip", "snip", ONE_SHOT, "|g w| at theta0 (Lee et al. 2019)",
           rule="saliency_masks", baseline=True, score="snip_scores"),
    Method("grasp", "grasp", ONE_SHOT, "-(H g) w at theta0 (Wang et al. 2020)",
           rule="saliency_masks", baseline=True, score="grasp_scores", removes_highest=True),
    Method("rigl", "rigl", TRAINED_SPARSE, "dynamic sparse training (Evci et al. 2020)",
           rule="rigl", baseline=True),
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


def mask_path(paths, name, rnd, seed):
    """The mask file ticket `name` trains under at round `rnd` (a dilt.paths.Paths file);
    None for the dense network."""
    ticket = parse(name)
    record = ticket.method
    if record.kind == DENSE:
        return None
    if record.kind == IMP_CHAIN:  # COLT: every part's file holds the shared mask
        part = ticket.part or chain_parts(record.chains, ["p0"])[0]
        return paths.imp("mask.safetensors", record.chains, part, rnd, seed)
    if record.kind == DERIVED:
        return paths.ticket(ticket.mask_ticket, rnd, seed)
    return paths.baseline(record.name, rnd, seed)


def chain_parts(method, parts):
    """Parts of an IMP method's chains: one `full` chain for LTH, one per partition else."""
    return ["full"] if method == "lth" else list(parts)


def round_sources(method, part, parts):
    """Chains whose round r-1 makes round r of chain (method, part): COLT's every chain (the
    shared mask is the AND of all chains' pruned masks), the chain itself otherwise."""
    return list(parts) if method == "colt" else [part]


def finders(name, rnd, parts):
    """Jobs whose wall-clock finds a ticket's mask at round `rnd`: IMP chains as (method,
    part), whose rounds 0..rnd-1 count, and the record's own job as (name, round or None).
    None for the dense network."""
    ticket = parse(name)
    record = ticket.method
    if record.kind == DENSE:
        return None
    chains = []
    if record.chains:
        chain = [ticket.part] if record.kind == IMP_CHAIN and record.per_part else \
            chain_parts(record.chains, parts)
        chains = [(record.chains, p) for p in chain]
    own = []
    if record.kind == ONE_SHOT:
        own = [(record.name, None)]
    elif record.kind == TRAINED_SPARSE:
        own = [(record.name, rnd)]
    return chains, own


def chain_seconds(bench, seed, method, part, rnd):
    """Benchmark seconds of rounds 0..rnd-1 of one IMP chain: finding its round-rnd mask."""
    return sum(bench[(seed, method, part, r)] for r in range(rnd))


def find_seconds(name, rnd, seed, parts, bench):
    """Summed benchmark seconds of the jobs that found a ticket, as if they ran one after the
    other (NaN for dense). `bench` maps (seed, job, part, round) to seconds; a record's own
    job uses part "full"."""
    jobs = finders(name, rnd, parts)
    if jobs is None:
        return float("nan")
    chains, own = jobs
    total = sum(chain_seconds(bench, seed, m, p, rnd) for m, p in chains)
    return total + sum(bench[(seed, job, "full", r)] for job, r in own)


def nominal_density(name, rnd, densities):
    """The density a ticket is compared at in round `rnd`: its own chains' schedule for an IMP
    chain's mask (COLT with its own fraction), the DiLT schedule for every other mask.
    `densities` maps each IMP method to its per-round nominal densities."""
    record = parse(name).method
    if record.kind == DENSE:
        return 1.0
    return densities[record.chains if record.kind == IMP_CHAIN else "dilt"][rnd]


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


def retrained(parts, imp_methods, baselines, reinit):
    """Every ticket retrained at every compared round: the IMP chains' and derived tickets of
    the enabled IMP methods, the baselines, and the re-initialised tickets (dense is retrained
    once, at round 0, and is not listed)."""
    imp = [m.name for m in RECORDS.values()
           if m.kind in (DERIVED, IMP_CHAIN) and m.chains in imp_methods]
    return names(imp, parts) + list(baselines) + [f"{REINIT}{t}" for t in reinit]
