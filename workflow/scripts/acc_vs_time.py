"""Experiment 1: accuracy of each matched ticket against the wall-clock of finding its mask
(parallel chains counted once per round, at their slowest)."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job

MARKERS = "osD^v<>Xp*h"


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data = data[data["feasible"].astype(bool) & data["ticket"].isin(smk.params.tickets)]
    dense = data[data["ticket"] == "dense"]
    data = data[data["ticket"] != "dense"]
    targets = sorted(data["target_sparsity"].unique())
    order = [t for t in smk.params.tickets if t in set(data["ticket"])]
    colors = dict(zip(order, sns.color_palette("tab20", len(order)), strict=True))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for ticket in order:
        points = []
        for target, group in data[data["ticket"] == ticket].groupby("target_sparsity"):
            mean, low, high = plotting.mean_ci(group["accuracy"])
            points.append((group["parallel_seconds"].mean(), mean, low, high, target))
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], color=colors[ticket], lw=1,
                label=ticket)
        for x, y, low, high, target in points:
            ax.errorbar(x, y, yerr=[[y - low], [high - y]], color=colors[ticket],
                        marker=MARKERS[targets.index(target) % len(MARKERS)], ms=5, capsize=2)
    ax.axhline(dense["accuracy"].mean(), color="black", ls="--", label="dense")
    for i, target in enumerate(targets):
        ax.plot([], [], color="grey", ls="", marker=MARKERS[i % len(MARKERS)],
                label=f"sparsity {target:g}")
    ax.set_xscale("log")
    ax.set(xlabel="wall-clock to find the mask (s; parallel chains count once per round, "
                  "mean over seeds)",
           ylabel="test accuracy, all classes",
           title=f"Accuracy vs cost of finding the ticket ({data['seed'].nunique()} seeds, "
                 "mean and 95% CI)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
