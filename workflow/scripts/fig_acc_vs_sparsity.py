"""Accuracy of every retrained ticket against its real sparsity: mean and 95% CI over seeds."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting
from dilt.script import run


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    dense = data[data["ticket"] == "dense"]
    sparse = data[data["ticket"] != "dense"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=sparse, x="sparsity", y=smk.params.metric, hue="ticket", marker="o",
                 errorbar=("ci", 95), ax=ax)
    ax.axhline(dense[smk.params.metric].mean(), color="black", ls="--", label="dense")
    ax.axhline(data["chance"].iloc[0], color="grey", ls=":", label="chance")
    ax.set(xlabel="sparsity (real, of prunable weights)", ylabel=f"test {smk.params.metric}",
           title=f"Retrained tickets ({data['seed'].nunique()} seeds, mean and 95% CI)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
    plotting.save(fig, smk.output)


run(main, snakemake)  # noqa: F821
