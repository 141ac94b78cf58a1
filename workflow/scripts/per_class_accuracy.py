"""Experiment 3: per-class test accuracy of selected tickets at one round (mean, 95% CI over
seeds), partitions shaded, chance marked."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from dilt import io, plotting, rule_job
from dilt.partitions import load_manifest


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
    fig, ax = plt.subplots(figsize=(2 + 0.8 * len(classes), 4.2))
    shades = sns.color_palette("pastel", len(manifest["partitions"]))
    for shade, part in zip(shades, manifest["partitions"], strict=True):
        for c in part["classes"]:
            ax.axvspan(c - 0.5, c + 0.5, color=shade, alpha=0.35, lw=0)
        ax.text(sum(part["classes"]) / len(part["classes"]), 0.02, part["name"], ha="center",
                fontsize=8)
    sns.pointplot(data=long, x="class", y="accuracy", hue="ticket", hue_order=order,
                  errorbar=("ci", 95), dodge=0.5, linestyle="none", markersize=4,
                  native_scale=True, palette="tab10", ax=ax)
    ax.axhline(data["chance"].iloc[0], color="grey", ls=":", label="chance")
    ax.set(xlabel="class (background: partition)", ylabel="test accuracy on the class",
           ylim=(0, 1.02), title=f"Per-class accuracy, tickets of round {p.round} retrained on "
                                 f"all classes ({data['seed'].nunique()} seeds, mean and 95% CI)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
