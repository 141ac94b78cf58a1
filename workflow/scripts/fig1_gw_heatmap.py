"""Figure 1: GW distance between chain A's layers (rows) and chain B's (columns), seed mean."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from dilt import io, plotting, rule_job


def main(smk, log):
    p = smk.params
    tables = [io.read_tsv(path, index_col=0) for path in smk.input]
    mean = sum(tables) / len(tables)
    rows = [n for n in mean.index if n.startswith(f"{p.rows}:")]
    cols = [n for n in mean.columns if n.startswith(f"{p.cols}:")]
    block = mean.loc[rows, cols]
    block.index = [n.split(":", 1)[1] for n in rows]
    block.columns = [n.split(":", 1)[1] for n in cols]
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(cols), 1 + 0.5 * len(rows)))
    sns.heatmap(pd.DataFrame(block), cmap=p.cmap, annot=len(cols) <= 12, fmt=".2g", ax=ax,
                cbar_kws={"label": "GW distance"})
    ax.set(xlabel=f"chain {p.cols} layer", ylabel=f"chain {p.rows} layer",
           title=f"GW between layers, round {p.round} (mean of {len(tables)} seeds)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
