"""Experiment 3: per-class test accuracy of selected tickets at one round (mean over seeds),
partitions marked, chance marked.

Up to POINTS classes: one point per class and ticket with its 95% CI over seeds. More
classes (Stanford Cars' 196, ImageNet's 1000) do not fit side by side, so the figure keeps a
fixed size: a ticket x class heatmap with the classes grouped by partition, and per ticket
the spread of its per-class accuracies on each partition's classes.
"""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from dilt import io, plotting, rule_job
from dilt.partitions import load_manifest

POINTS = 40  # most classes drawn as points side by side


def points(long, manifest, order, chance, ax):
    """One point per class and ticket (mean, 95% CI over seeds); partitions shaded."""
    shades = sns.color_palette("pastel", len(manifest["partitions"]))
    for shade, part in zip(shades, manifest["partitions"], strict=True):
        for c in part["classes"]:
            ax.axvspan(c - 0.5, c + 0.5, color=shade, alpha=0.35, lw=0)
        ax.text(sum(part["classes"]) / len(part["classes"]), 0.02, part["name"], ha="center",
                fontsize=8)
    sns.pointplot(data=long, x="class", y="accuracy", hue="ticket", hue_order=order,
                  errorbar=("ci", 95), dodge=0.5, linestyle="none", markersize=4,
                  native_scale=True, palette="tab10", ax=ax)
    ax.axhline(chance, color="grey", ls=":", label="chance")
    ax.set(xlabel="class (background: partition)", ylabel="test accuracy on the class",
           ylim=(0, 1.02))
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)


def summary(long, manifest, order, chance, heat_ax, box_ax):
    """Heatmap of ticket x class (classes grouped by partition) and each ticket's per-class
    accuracies per partition as boxes."""
    part_of = {c: p["name"] for p in manifest["partitions"] for c in p["classes"]}
    columns = [c for p in manifest["partitions"] for c in p["classes"]]
    mean = long.groupby(["ticket", "class"])["accuracy"].mean().unstack()
    heat_ax.imshow(mean.loc[order, columns].to_numpy(), aspect="auto", cmap="viridis",
                   vmin=0, vmax=1, interpolation="nearest")
    edge, centres = 0, []
    for part in manifest["partitions"]:
        centres.append(edge + len(part["classes"]) / 2 - 0.5)
        edge += len(part["classes"])
        heat_ax.axvline(edge - 0.5, color="white", lw=1)
    heat_ax.set_xticks(centres, [f"{p['name']} ({len(p['classes'])} classes)"
                                 for p in manifest["partitions"]])
    heat_ax.set(yticks=range(len(order)), yticklabels=order,
                xlabel="classes, grouped by partition")
    heat_ax.grid(False)
    plt.colorbar(heat_ax.images[0], ax=heat_ax, label="accuracy (mean over seeds)")
    per_class = mean.stack().rename("accuracy").reset_index()
    per_class["partition"] = per_class["class"].map(part_of)
    sns.boxplot(data=per_class, x="ticket", y="accuracy", hue="partition", order=order,
                fliersize=1, ax=box_ax)
    box_ax.axhline(chance, color="grey", ls=":", label="chance")
    box_ax.set(xlabel="", ylabel="per-class accuracy", ylim=(0, 1.02))
    box_ax.tick_params(axis="x", rotation=30)
    box_ax.legend(title="classes of", fontsize=7)


def main(smk, log):
    p = smk.params
    data = io.read_tsv(smk.input.table)
    data = data[data["view"] == "round"]
    manifest = load_manifest(smk.input.partitions)
    rows = data[((data["round"] == p.round) | (data["ticket"] == "dense"))
                & data["ticket"].isin(p.tickets)]
    classes = [c for c in data.columns if c.startswith("acc_class")]
    long = rows.melt(id_vars=["ticket", "seed"], value_vars=classes, var_name="class",
                     value_name="accuracy")
    long["class"] = pd.to_numeric(long["class"].str.removeprefix("acc_class"))
    order = [t for t in p.tickets if t in set(long["ticket"])]
    chance = data["chance"].iloc[0]
    title = (f"Per-class accuracy, tickets of round {p.round} retrained on all classes "
             f"({data['seed'].nunique()} seeds)")
    if len(classes) <= POINTS:
        fig, ax = plt.subplots(figsize=(2 + 0.8 * len(classes), 4.2))
        points(long, manifest, order, chance, ax)
        ax.set_title(title + ", mean and 95% CI")
    else:
        fig, (heat_ax, box_ax) = plt.subplots(2, 1, figsize=(12, 3 + 0.7 * len(order)))
        summary(long, manifest, order, chance, heat_ax, box_ax)
        heat_ax.set_title(title)
    log(f"{len(classes)} classes, {len(order)} tickets")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
