"""The study's tidy tables, built from the per-job results (JSON) and benchmark times."""

import pandas as pd

from . import methods

IMP_COLUMNS = ["method", "part", "seed", "round", "density", "test_acc", "train_acc",
               "train_loss", "pruned_nonzero"]
EXP1_COLUMNS = ["stage", "method", "ticket", "seed", "round", "target_sparsity", "density",
                "sparsity", "accuracy", "evaluated_on", "chance", "find_seconds"]
EXP4_COLUMNS = ["target", "ticket", "seed", "round", "density", "sparsity", "acc", "chance",
                "init_seed", "train_acc", "train_loss"]


def retrain(results):
    """One row per retraining result, per-class accuracies as acc_class{c} columns."""
    rows = []
    for result in results:
        result = dict(result)
        per_class = result.pop("per_class")
        rows.append({**result, **{f"acc_class{c}": a for c, a in per_class.items()}})
    table = pd.DataFrame(rows).sort_values(["ticket", "round", "seed"])
    table.insert(3, "sparsity", 1.0 - table["density"])
    return table


def imp(metrics):
    """One row per IMP chain round."""
    return pd.DataFrame(metrics)[IMP_COLUMNS].sort_values(["method", "part", "seed", "round"])


def exp1(retrained, imp_rounds, part_sizes, bench, parts, densities):
    """Experiment 1: every retrained ticket and every IMP chain round with its real density,
    accuracy, nominal target sparsity and the wall-clock of finding its mask.

    retrained, imp_rounds: the retrain and imp tables; part_sizes: {part or "full": number of
    classes}; bench: {(seed, job, part, round): seconds} (methods.find_seconds); densities:
    {IMP method: nominal density per round} (methods.nominal_density).
    """
    retrained = retrained.assign(
        stage="retrain", method=[methods.parse(t).family for t in retrained["ticket"]],
        accuracy=retrained["acc_all"], evaluated_on="all",
        find_seconds=[methods.find_seconds(t, r, s, parts, bench) for t, r, s in
                      zip(retrained["ticket"], retrained["round"], retrained["seed"],
                          strict=True)],
        target_sparsity=[1.0 - methods.nominal_density(t, r, densities) for t, r in
                         zip(retrained["ticket"], retrained["round"], strict=True)])
    imp_rounds = imp_rounds.assign(
        stage="imp", ticket=imp_rounds["part"], accuracy=imp_rounds["test_acc"],
        evaluated_on=imp_rounds["part"].replace("full", "all"),
        chance=1.0 / imp_rounds["part"].map(part_sizes),
        find_seconds=[methods.chain_seconds(bench, s, m, q, r) for m, q, s, r in
                      zip(imp_rounds["method"], imp_rounds["part"], imp_rounds["seed"],
                          imp_rounds["round"], strict=True)],
        target_sparsity=[1.0 - densities[m][r] for m, r in
                         zip(imp_rounds["method"], imp_rounds["round"], strict=True)])
    table = pd.concat([retrained, imp_rounds], ignore_index=True)
    table["sparsity"] = 1.0 - table["density"]
    return table[EXP1_COLUMNS].sort_values(["stage", "method", "ticket", "round", "seed"])


def exp4(results):
    """Experiment 4: one row per transfer result."""
    table = pd.DataFrame(results)
    table["sparsity"] = 1.0 - table["density"]
    return table[EXP4_COLUMNS].sort_values(["ticket", "round", "seed"])
