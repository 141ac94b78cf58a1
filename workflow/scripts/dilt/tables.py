"""The study's tidy tables, built from the per-job results (JSON), the matching records and
the benchmark times."""

import math

import numpy as np
import pandas as pd

from . import methods, stats
from .methods import MATCHED, ROUND

IMP_COLUMNS = ["method", "part", "seed", "round", "density", "test_acc", "train_acc",
               "train_loss", "steps", "pruned_nonzero"]
EXP1_COLUMNS = ["method", "ticket", "seed", "target_sparsity", "feasible", "density",
                "sparsity", "accuracy", "chance", "empty_layers", "source_round", "rounds",
                "serial_seconds", "parallel_seconds", "train_steps"]
FLOPS_COLUMNS = ["flops", "flops_reduction"]  # ViT runs only
SAME_ROUND_COLUMNS = ["stage", "method", "ticket", "seed", "round", "target_sparsity",
                      "density", "sparsity", "accuracy", "evaluated_on", "chance",
                      "find_seconds"]
EXP3_COLUMNS = ["seed", "round", "ticket", "control", "split", "density", "acc_ticket",
                "acc_control", "difference", "empty_layers"]
EXP4_COLUMNS = ["target", "ticket", "seed", "round", "density", "sparsity", "acc", "chance",
                "init_seed", "train_acc", "train_loss"]


def retrain(results):
    """One row per retraining result of both views (view, round or target_sparsity),
    per-class accuracies as acc_class{c} columns, empty layers comma-joined."""
    rows = []
    for result in results:
        result = {k: v for k, v in result.items() if k not in ("runtime",)}
        per_class = result.pop("per_class")
        result["empty_layers"] = ",".join(result.get("empty_layers", []))
        rows.append({**result, **{f"acc_class{c}": a for c, a in per_class.items()}})
    table = pd.DataFrame(rows).sort_values(["view", "ticket", "round", "target_sparsity",
                                            "seed"], na_position="first")
    table.insert(table.columns.get_loc("density") + 1, "sparsity", 1.0 - table["density"])
    return table


def imp(metrics):
    """One row per IMP chain round."""
    return pd.DataFrame(metrics)[IMP_COLUMNS].sort_values(["method", "part", "seed", "round"])


def chain_costs(bench, imp_rounds, seed, chains, last_round):
    """(serial seconds, parallel seconds, training steps) of rounds 0..last_round of the
    chains: the parallel time counts each round once, at its slowest chain (the chains of a
    round run at once, COLT's after each other's previous round)."""
    if not chains or last_round < 0:
        return 0.0, 0.0, 0
    steps = imp_rounds.set_index(["method", "part", "seed", "round"])["steps"]
    rounds = range(last_round + 1)
    per_round = [[bench[(seed, m, p, r)] for m, p in chains] for r in rounds]
    return (float(sum(map(sum, per_round))), float(sum(map(max, per_round))),
            int(sum(steps[(m, p, seed, r)] for m, p in chains for r in rounds)))


def exp1(retrained, imp_rounds, matching, bench, parts, own_steps=None):
    """Experiment 1 at matched density: every ticket at every target sparsity (infeasible
    ones as rows without accuracy), with what finding it took.

    retrained: the retrain table; imp_rounds: the imp table; matching: the match
    checkpoints' records of all seeds (with a seed column); bench: {(seed, job, part,
    point): seconds}; own_steps: {(ticket, seed, target sparsity): training steps} of
    baselines whose own job trains (CAP's fine-tuning). `rounds` is the IMP pruning rounds a
    ticket's mask took (its source round, trimmed by a partial next one; 0 for baselines);
    the seconds and steps count rounds 0..source round of its chains (the source round's
    weights give the trim; a baseline that prunes a trained network: round 0 of the chain it
    starts from, its source_round) plus the baseline's own job. ViT runs (retrain results
    with FLOPs) add `flops` and `flops_reduction` (dilt.vit_structure.flops_summary).
    """
    done = retrained[retrained["view"] == MATCHED].set_index(["ticket", "seed",
                                                              "target_sparsity"])
    record = matching.set_index(["ticket", "seed", "target_sparsity"])
    rows = []
    for ticket_name, seed, sparsity in _matched_points(retrained, matching):
        ticket = methods.parse(ticket_name)
        key = (ticket_name, seed, sparsity)
        row = {"method": ticket.family, "ticket": ticket_name, "seed": seed,
               "target_sparsity": sparsity, "feasible": key in done.index}
        source = None
        if ticket.imp_derived:  # a control's mask comes from its reference's round
            found = ticket.reference if ticket.method.kind == methods.CONTROL \
                else ticket.mask_ticket
            rec = record.loc[(found, seed, sparsity)]
            source = None if pd.isna(rec["source_round"]) else int(rec["source_round"])
        last = methods.last_chain_round(ticket_name, source)
        chains, own = methods.finders(ticket_name, parts)
        serial, parallel, steps = chain_costs(bench, imp_rounds, seed, chains, last)
        if own is not None:
            point = sparsity if ticket.method.kind == methods.TRAINED_SPARSE else None
            seconds = bench[(seed, own, "full", point)]
            serial, parallel = serial + seconds, parallel + seconds
            steps += (own_steps or {}).get(key, 0)
        if key in done.index:
            result = done.loc[key]
            row.update(density=result["density"], accuracy=result["acc_all"],
                       chance=result["chance"], empty_layers=result["empty_layers"],
                       **{c: result[c] for c in FLOPS_COLUMNS if c in done.columns})
            if ticket.method.kind == methods.TRAINED_SPARSE:
                steps += int(result["steps"])
            if not ticket.imp_derived and last == 0:
                source = 0  # the round whose trained weights the baseline prunes
            row.update(source_round=source, rounds=source or 0, serial_seconds=serial,
                       parallel_seconds=parallel, train_steps=steps)
        rows.append(row)
    dense = retrained[(retrained["ticket"] == "dense")]
    flops = [c for c in FLOPS_COLUMNS if c in retrained.columns]
    rows += [{"method": "dense", "ticket": "dense", "seed": r["seed"], "target_sparsity": 0.0,
              "feasible": True, "density": 1.0, "accuracy": r["acc_all"],
              "chance": r["chance"], "empty_layers": "", "rounds": 0,
              **{c: r[c] for c in flops}}
             for _, r in dense.iterrows()]
    table = pd.DataFrame(rows).reindex(columns=EXP1_COLUMNS + flops)
    table["sparsity"] = 1.0 - table["density"]
    return table.sort_values(["method", "ticket", "target_sparsity", "seed"])


def _matched_points(retrained, matching):
    """(ticket, seed, target sparsity) of every matched ticket: retrained, or recorded as
    infeasible by the match checkpoint (with its re-initialised twins)."""
    points = {(t, int(s), float(x)) for t, s, x in retrained.loc[
        retrained["view"] == MATCHED, ["ticket", "seed", "target_sparsity"]].itertuples(
        index=False)}
    infeasible = matching[~matching["feasible"].astype(bool)]
    points |= {(t, int(s), float(x)) for t, s, x in infeasible[
        ["ticket", "seed", "target_sparsity"]].itertuples(index=False)}
    return sorted(points)


def exp1_same_round(retrained, imp_rounds, part_sizes, bench, parts, densities):
    """The same-round view: the tickets retrained at an IMP round, and every IMP chain
    round, with real density and the summed wall-clock of finding the mask (rounds 0..r-1
    of its chains, as if they ran one after the other; the round's nominal sparsity)."""
    retrained = retrained[retrained["view"] == ROUND]

    def find(ticket, rnd, seed):
        jobs = methods.finders(ticket, parts)
        if jobs is None:
            return math.nan
        return chain_costs(bench, imp_rounds, seed, jobs[0], rnd - 1)[0]

    def nominal(ticket, rnd):
        record = methods.parse(ticket).method
        if record.kind == methods.DENSE:
            return 0.0
        return 1.0 - densities[record.chains if record.kind == methods.IMP_CHAIN
                               else "dilt"][rnd]

    retrained = retrained.assign(
        stage="retrain", method=[methods.parse(t).family for t in retrained["ticket"]],
        accuracy=retrained["acc_all"], evaluated_on="all",
        find_seconds=[find(t, int(r), s) for t, r, s in
                      zip(retrained["ticket"], retrained["round"], retrained["seed"],
                          strict=True)],
        target_sparsity=[nominal(t, int(r)) for t, r in
                         zip(retrained["ticket"], retrained["round"], strict=True)])
    imp_rounds = imp_rounds.assign(
        stage="imp", ticket=imp_rounds["part"], accuracy=imp_rounds["test_acc"],
        evaluated_on=imp_rounds["part"].replace("full", "all"),
        chance=1.0 / imp_rounds["part"].map(part_sizes),
        find_seconds=[chain_costs(bench, imp_rounds, s, [(m, q)], r - 1)[0]
                      for m, q, s, r in zip(imp_rounds["method"], imp_rounds["part"],
                                            imp_rounds["seed"], imp_rounds["round"],
                                            strict=True)],
        target_sparsity=[1.0 - densities[m][r] for m, r in
                         zip(imp_rounds["method"], imp_rounds["round"], strict=True)])
    table = pd.concat([retrained, imp_rounds], ignore_index=True)
    table["round"] = table["round"].astype(int)
    table["sparsity"] = 1.0 - table["density"]
    return table[SAME_ROUND_COLUMNS].sort_values(["stage", "method", "ticket", "round", "seed"])


def exp3(retrained, parts):
    """Experiment 3 in the same-round view: each specialist and the core beside its random
    control with the same per-layer counts, on all classes and on each partition's."""
    same = retrained[retrained["view"] == ROUND].set_index(["ticket", "seed", "round"])
    rows = []
    for ticket in [f"specialist_{p}" for p in parts] + ["core"]:
        control = methods.parse(ticket)
        control = next((m for m in methods.RECORDS.values()
                        if m.kind == methods.CONTROL and m.reference == control.method.name),
                       None)
        if control is None:
            continue
        control_name = f"{control.name}_{ticket.rpartition('_')[2]}" if control.per_part \
            else control.name
        for (name, seed, rnd), row in same.iterrows():
            if name != ticket or (control_name, seed, rnd) not in same.index:
                continue
            other = same.loc[(control_name, seed, rnd)]
            for split in ["all", *parts]:
                rows.append({"seed": seed, "round": rnd, "ticket": ticket,
                             "control": control_name, "split": split,
                             "density": row["density"], "acc_ticket": row[f"acc_{split}"],
                             "acc_control": other[f"acc_{split}"],
                             "difference": row[f"acc_{split}"] - other[f"acc_{split}"],
                             "empty_layers": row["empty_layers"]})
    return pd.DataFrame(rows, columns=EXP3_COLUMNS)


def comparisons(retrained, parts, densities):
    """The headline comparisons (dilt.stats.default_comparisons) paired by seed: in the
    matched view at each target sparsity, and, for the specialists and the core against
    their controls, in the same-round view at each round (target_sparsity: the round's
    nominal sparsity)."""
    matched = retrained[retrained["view"] == MATCHED]
    specs = stats.default_comparisons(parts, matched["ticket"].unique())
    tables = [stats.comparison_table(matched, specs).assign(view=MATCHED, round=np.nan)]
    same = retrained[retrained["view"] == ROUND]
    same = same.assign(target_sparsity=same["round"].astype(float))
    tickets = same["ticket"].unique()
    specs = [c for c in stats.default_comparisons(parts, tickets)
             if c.ticket_a.startswith("specialist_")]
    if "core" in tickets and "random_core" in tickets:
        specs += [stats.Comparison("core_vs_random", "core", "random_core", s)
                  for s in ["all", *parts]]
    rows = stats.comparison_table(same, specs)
    rows["round"] = rows["target_sparsity"].astype(int)
    rows["target_sparsity"] = [1.0 - densities["dilt"][r] for r in rows["round"]]
    tables.append(rows.assign(view=ROUND))
    return pd.concat(tables, ignore_index=True)


def exp4(results):
    """Experiment 4: one row per transfer result."""
    table = pd.DataFrame(results)
    table["sparsity"] = 1.0 - table["density"]
    return table[EXP4_COLUMNS].sort_values(["ticket", "round", "seed"])
