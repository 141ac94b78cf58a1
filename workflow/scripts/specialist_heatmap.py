"""Experiment 3: accuracy of each ticket on all classes and on each partition's classes, one
panel per retrained round (mean over seeds); chance marked on the colour bar."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data = data[data["view"] == "round"]
    splits = ["acc_all"] + sorted(c for c in data.columns if c.startswith("acc_p"))
    chance = data["chance"].iloc[0]
    dense = data[data["ticket"] == "dense"]
    rounds = sorted(data.loc[data["ticket"] != "dense", "round"].unique())
    tickets = sorted(data["ticket"].unique())
    fig, axes = plt.subplots(1, len(rounds), squeeze=False,
                             figsize=(1.5 + (1.5 + 0.9 * len(splits)) * len(rounds),
                                      1.2 + 0.32 * len(tickets)))
    for ax, rnd in zip(axes[0], rounds, strict=True):
        rows = data[(data["round"] == rnd) & (data["ticket"] != "dense")]
        table = pd.concat([rows, dense]).groupby("ticket")[splits].mean()
        table.columns = [c.removeprefix("acc_") for c in splits]
        heat = sns.heatmap(table, annot=True, fmt=".2f", annot_kws={"fontsize": 6}, vmin=0,
                           vmax=1, cmap=smk.params.cmap, ax=ax,
                           cbar_kws={"label": "test accuracy"})
        bar = heat.collections[0].colorbar
        bar.ax.axhline(chance, color="red", lw=2)
        bar.ax.text(1.2, chance, "chance", color="red", va="center", fontsize=7,
                    transform=bar.ax.get_yaxis_transform())
        ax.set(xlabel="test split (classes)", ylabel="ticket" if rnd == rounds[0] else "",
               title=f"round {rnd}")
    fig.suptitle(f"Tickets retrained on all classes, mean of {data['seed'].nunique()} seeds "
                 f"(chance {chance:.2f})")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
