"""Experiment 1: accuracy of every compared ticket at matched real sparsity (mean, 95% CI);
ViT runs add accuracy against the FLOPs reduction of one image's forward pass."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job

AXES = {"sparsity": "sparsity (real, of prunable weights; matched to each target)",
        "flops_reduction": "FLOPs reduction (one image's forward pass)"}


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data = data[data["feasible"].astype(bool) & data["ticket"].isin(smk.params.tickets)]
    dense = data[data["ticket"] == "dense"]
    sparse = data[data["ticket"] != "dense"]
    order = [t for t in smk.params.tickets if t in set(sparse["ticket"])]
    xs = [x for x in AXES if x in data.columns]
    fig, axes = plt.subplots(1, len(xs), figsize=(7.5 + 4.5 * (len(xs) - 1), 4.5),
                             squeeze=False, sharey=True)
    for ax, x in zip(axes[0], xs, strict=True):
        sns.lineplot(data=plotting.mean_over_seeds(sparse, x, ["ticket", "target_sparsity"]),
                     x=x, y="accuracy", hue="ticket", hue_order=order, style="method",
                     marker="o", errorbar=("ci", 95),
                     palette=sns.color_palette("tab20", len(order)), ax=ax,
                     legend=x == xs[-1])
        ax.axhline(dense["accuracy"].mean(), color="black", ls="--", label="dense")
        ax.axhline(data["chance"].iloc[0], color="grey", ls=":", label="chance")
        ax.set(xlabel=AXES[x], ylabel="test accuracy, all classes")
    axes[0][-1].legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)
    fig.suptitle(f"Experiment 1 at matched density ({data['seed'].nunique()} seeds, "
                 "mean and 95% CI)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
