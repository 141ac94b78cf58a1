"""Figure 2: every chain's layers in network order, coloured by spectral cluster, per seed."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import plotting, rule_job


def main(smk, log):
    data = plotting.read_per_seed(smk.input, smk.params.seeds)
    data["row"] = "seed " + data["seed"].astype(str) + " " + data["part"]
    data["cluster"] = data["cluster"].astype(str)
    rows = list(dict.fromkeys(data["row"]))
    layers = list(dict.fromkeys(data.sort_values("depth", kind="stable")["layer"]))
    fig, ax = plt.subplots(figsize=(2.5 + 0.7 * len(layers), 1 + 0.45 * len(rows)))
    palette = sns.color_palette(smk.params.palette, data["cluster"].nunique())
    sns.scatterplot(data=data, x="depth", y="row", hue="cluster", palette=palette,
                    s=220, marker="s", ax=ax)
    ax.set_xticks(range(len(layers)), layers, rotation=45, ha="right")
    ax.set(xlabel="layer (network order)", ylabel="",
           title=f"Spectral clusters of layers, round {smk.params.round}")
    ax.legend(title="cluster", bbox_to_anchor=(1.01, 1), loc="upper left")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
