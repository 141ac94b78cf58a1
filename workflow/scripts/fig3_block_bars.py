"""Figure 3: per functional block, mean mask Jaccard (chance marked) and mean same-layer GW."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = plotting.read_per_seed(smk.input.blocks, smk.params.seeds)
    data["block"] = "seed " + data["seed"].astype(str) + "\nblock " + data["cluster"].astype(str)
    stats = [io.read_json(p) for p in smk.input.correlation]
    fig, axes = plt.subplots(1, 2, figsize=(max(6.0, 2 + 0.9 * len(data)), 3.6))
    sns.barplot(data=data, x="block", y="mean_jaccard", hue="seed", palette=smk.params.palette,
                ax=axes[0], legend=False)
    axes[0].scatter(range(len(data)), data["mean_chance_jaccard"], marker="_", s=400,
                    color="black", label="chance", zorder=3)
    axes[0].set(ylabel="mean mask Jaccard between chains", xlabel="")
    axes[0].legend(loc="upper right")
    sns.barplot(data=data, x="block", y="mean_gw", hue="seed", palette=smk.params.palette,
                ax=axes[1], legend=False)
    axes[1].set(ylabel="mean GW, same layer across chains", xlabel="")
    summary = "; ".join(f"seed {seed}: rho={s['spearman_rho']:.2f}, "
                        f"p={s['p_value']:.3f}"
                        for seed, s in zip(smk.params.seeds, stats, strict=True))
    fig.suptitle(f"Blocks at round {smk.params.round}. Spearman(Jaccard, GW) over layers: "
                 f"{summary}", fontsize=8)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
