"""Experiment 1: accuracy of every compared ticket at matched real sparsity (mean, 95% CI)."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data = data[data["feasible"].astype(bool) & data["ticket"].isin(smk.params.tickets)]
    dense = data[data["ticket"] == "dense"]
    sparse = plotting.mean_over_seeds(data[data["ticket"] != "dense"], "sparsity",
                                      ["ticket", "target_sparsity"])
    order = [t for t in smk.params.tickets if t in set(sparse["ticket"])]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sns.lineplot(data=sparse, x="sparsity", y="accuracy", hue="ticket", hue_order=order,
                 style="method", marker="o", errorbar=("ci", 95),
                 palette=sns.color_palette("tab20", len(order)), ax=ax)
    ax.axhline(dense["accuracy"].mean(), color="black", ls="--", label="dense")
    ax.axhline(data["chance"].iloc[0], color="grey", ls=":", label="chance")
    ax.set(xlabel="sparsity (real, of prunable weights; matched to each target)",
           ylabel="test accuracy, all classes",
           title=f"Experiment 1 at matched density ({data['seed'].nunique()} seeds, "
                 "mean and 95% CI)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
