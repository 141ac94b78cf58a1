"""Specialist probe: accuracy of each ticket on all classes and on each partition's classes."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting
from dilt.script import run


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data = data[(data["round"] == smk.params.round) | (data["ticket"] == "dense")]
    splits = ["acc_all"] + sorted(c for c in data.columns if c.startswith("acc_p"))
    table = data.groupby("ticket")[splits].mean()
    table.columns = [c.removeprefix("acc_") for c in splits]
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(splits), 1 + 0.45 * len(table)))
    sns.heatmap(table, annot=True, fmt=".3f", cmap=smk.params.cmap, ax=ax,
                cbar_kws={"label": "test accuracy"})
    ax.set(xlabel="test split (classes)", ylabel="ticket",
           title=f"Round {smk.params.round}, mean of {data['seed'].nunique()} seeds "
                 f"(chance {data['chance'].iloc[0]:.2f})")
    plotting.save(fig, smk.output)


run(main, snakemake)  # noqa: F821
