"""Experiment 3: each specialist (and the core) against its random control with the same
per-layer counts, on all classes and on each partition's classes, at every retrained round
(mean and 95% CI over seeds). A specialist no better than its control on its own partition
shows no specialisation."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    long = data.melt(id_vars=["seed", "round", "ticket", "split"],
                     value_vars=["acc_ticket", "acc_control"], var_name="mask",
                     value_name="accuracy")
    long["mask"] = long["mask"].map({"acc_ticket": "ticket", "acc_control": "same-count random"})
    tickets = list(dict.fromkeys(data["ticket"]))
    rounds = sorted(data["round"].unique())
    fig, axes = plt.subplots(len(rounds), len(tickets), squeeze=False, sharey=True,
                             figsize=(1.5 + 2.8 * len(tickets), 0.8 + 2.6 * len(rounds)))
    for i, rnd in enumerate(rounds):
        for j, ticket in enumerate(tickets):
            ax = axes[i][j]
            rows = long[(long["round"] == rnd) & (long["ticket"] == ticket)]
            sns.barplot(data=rows, x="split", y="accuracy", hue="mask", errorbar=("ci", 95),
                        palette=smk.params.palette, ax=ax, legend=(i, j) == (0, 0))
            density = data.loc[(data["round"] == rnd) & (data["ticket"] == ticket),
                               "density"].mean()
            ax.set(title=f"{ticket}, round {rnd} (density {density:.3f})", xlabel="test split",
                   ylabel="test accuracy" if j == 0 else "")
    fig.suptitle(f"Experiment 3: tickets vs same-count random masks "
                 f"({data['seed'].nunique()} seeds, mean and 95% CI)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
