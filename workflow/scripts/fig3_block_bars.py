"""Figure 3: per functional block, the chance-corrected mask overlap (J - J0)/(1 - J0) and the
mean same-layer GW; the correlation tests per seed below."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def summary(seed, s):
    """One line of the correlation tests of a seed (or why they are undefined)."""
    if s["reason"]:
        return f"seed {seed}: {s['reason']}"
    return (f"seed {seed}: rho raw {s['spearman_rho']:.2f} (p {s['p_value']:.3f}), "
            f"corrected {s['rho_corrected']:.2f} (p {s['p_value_corrected']:.3f}), "
            f"density-null p {s['p_density_null']:.3f}")


def main(smk, log):
    data = plotting.read_per_seed(smk.input.blocks, smk.params.seeds)
    data["block"] = "seed " + data["seed"].astype(str) + "\nblock " + data["cluster"].astype(str)
    stats = [io.read_json(p) for p in smk.input.correlation]
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 3 + 1.2 * len(data)), 4.6))
    sns.barplot(data=data, x="block", y="jaccard_corrected", hue="seed",
                palette=smk.params.palette, ax=axes[0], legend=False)
    axes[0].axhline(0, color="black", lw=1)
    axes[0].set(ylabel="mask overlap beyond chance\n(J - J0) / (1 - J0); 0 = chance", xlabel="")
    sns.barplot(data=data, x="block", y="mean_gw", hue="seed", palette=smk.params.palette,
                ax=axes[1], legend=False)
    axes[1].set(ylabel="mean GW, same layer across chains", xlabel="")
    lines = "\n".join(summary(seed, s) for seed, s in zip(smk.params.seeds, stats, strict=True))
    fig.suptitle(f"Functional blocks at round {smk.params.round}\n{lines}", fontsize=8)
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
