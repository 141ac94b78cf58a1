"""Compute cost per rule: summed wall and CPU time, and peak memory of one job."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    table = io.read_tsv(smk.input[0]).sort_values("wall_s", ascending=False)
    table["label"] = [f"{rule} ({n} job{'s' * (n != 1)})"
                      for rule, n in zip(table["rule"], table["jobs"], strict=True)]
    times = table.melt(id_vars="label", value_vars=["wall_s", "cpu_s"], var_name="measure",
                       value_name="seconds")
    times["measure"] = times["measure"].map({"wall_s": "wall", "cpu_s": "CPU"})
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.5 * len(table) + 1.5),
                                      sharey=True, width_ratios=[2, 1])
    sns.barplot(data=times, y="label", x="seconds", hue="measure", ax=left,
                palette=smk.params.palette)
    left.set(xlabel="seconds, summed over jobs", ylabel="", title="Time per rule")
    sns.barplot(data=table, y="label", x="max_rss_mb", ax=right,
                color=sns.color_palette(smk.params.palette)[2])
    right.set(xlabel="MB", ylabel="", title="Peak RSS of one job")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
