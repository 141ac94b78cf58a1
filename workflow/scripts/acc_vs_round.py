"""Experiment 1: accuracy against the IMP round (mean, 95% CI over seeds)."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    imp = data[data["stage"] == "imp"].assign(chain=lambda d: d["method"] + "/" + d["ticket"])
    retrained = data[(data["stage"] == "retrain") & data["method"].isin(["dilt", "colt", "lth"])]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    sns.lineplot(data=imp, x="round", y="accuracy", hue="chain", marker="o",
                 errorbar=("ci", 95), ax=axes[0])
    axes[0].set(xlabel="IMP round", ylabel="test accuracy",
                title="IMP chains, on the classes each chain trains on")
    sns.lineplot(data=retrained, x="round", y="accuracy", hue="ticket", marker="o",
                 errorbar=("ci", 95), palette="tab20", ax=axes[1])
    axes[1].axhline(data.loc[data["ticket"] == "dense", "accuracy"].mean(), color="black",
                    ls="--", label="dense")
    axes[1].set(xlabel="IMP round the mask comes from", title="Tickets retrained on all classes")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(f"Accuracy vs pruning round ({data['seed'].nunique()} seeds, mean and 95% CI)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
