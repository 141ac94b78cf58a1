"""Experiment 4: target test accuracy of every transferred ticket (mean, 95% CI over seeds);
each bar is labelled with the ticket's real sparsity (mean over seeds)."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data["setting"] = ["dense" if t == "dense" else f"round {r}"
                       for t, r in zip(data["ticket"], data["round"], strict=True)]
    order = [t for t in smk.params.tickets if t in set(data["ticket"])]
    settings = list(dict.fromkeys(data.sort_values("round")["setting"]))
    sparsity = data.groupby(["setting", "ticket"])["sparsity"].mean()
    fig, ax = plt.subplots(figsize=(1.5 + 1.3 * len(order), 4.2))
    sns.barplot(data=data, x="ticket", y="acc", hue="setting", order=order,
                hue_order=settings, errorbar=("ci", 95), palette=smk.params.palette, ax=ax)
    for bars, setting in zip(ax.containers, settings, strict=True):
        tickets = [order[round(b.get_x() + b.get_width() / 2)] for b in bars]
        ax.bar_label(bars, [f"{sparsity.get((setting, t), float('nan')):.2f}" for t in tickets],
                     fontsize=6, padding=2)
    ax.axhline(data["chance"].iloc[0], color="grey", ls=":", label="chance")
    target = data["target"].iloc[0]
    ax.set(xlabel="source ticket (fresh initialisation, new output layer); "
                  "bar labels: real sparsity",
           ylabel=f"test accuracy on {target}",
           title=f"Experiment 4: transfer to {target} ({data['seed'].nunique()} seeds, "
                 "mean and 95% CI)")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=7)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
