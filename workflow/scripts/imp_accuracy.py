"""Test accuracy of each IMP chain on its own classes across rounds (mean, 95% CI over seeds)."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    data = io.read_tsv(smk.input[0])
    data["chain"] = data["method"] + "/" + data["part"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=data, x="round", y="test_acc", hue="chain", marker="o",
                 errorbar=("ci", 95), ax=ax)
    ax.set(xlabel="IMP round", ylabel="test accuracy on the chain's classes",
           title="IMP chains: accuracy vs round (density (1-p)^round)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
