"""ViT structure of the tickets: per block (rows) and component (columns: patch embedding,
each head, the q/k/v thirds of qkv, the attention output projection, fc1, fc2, the FFN
module) the density of the core, each specialist and the union, and the chains' overlap
against chance (J - J0) / (1 - J0); means over seeds of tickets/round{r}/vit_overlap.tsv."""

import matplotlib.pyplot as plt
import seaborn as sns

from dilt import plotting, rule_job

TITLES = {"core_density": "core density (kept by every chain)",
          "union_density": "union density (kept by any chain)",
          "jaccard_vs_chance": "chains' mask overlap beyond chance, (J - J0) / (1 - J0)"}


def grids(data, columns):
    """{column: block x component table} of the seed means, in network order."""
    data = data.assign(component=data["component"].where(data["block"] != "patch_embed",
                                                         "patch"))
    blocks = list(dict.fromkeys(data["block"]))
    components = list(dict.fromkeys(data["component"]))
    means = data.groupby(["block", "component"])[columns].mean()
    return {c: means[c].unstack().reindex(index=blocks, columns=components) for c in columns}


def main(smk, log):
    data = plotting.read_per_seed(smk.input, smk.params.seeds)
    specialists = [c for c in data.columns if c.startswith("specialist_")]
    panels = ["core_density", *specialists, "union_density", "jaccard_vs_chance"]
    tables = grids(data, panels)
    rows, cols = tables[panels[0]].shape
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6.0, 0.55 * cols + 2),
                                                      len(panels) * (0.35 * rows + 1.2)))
    for ax, panel in zip(axes, panels, strict=True):
        overlap = panel == "jaccard_vs_chance"
        sns.heatmap(tables[panel], ax=ax, annot=True, fmt=".2f", annot_kws={"size": 6},
                    cmap=smk.params.overlap_cmap if overlap else smk.params.cmap,
                    center=0 if overlap else None, vmin=None if overlap else 0,
                    cbar_kws={"label": "beyond chance" if overlap else "density"})
        ax.grid(False)
        ax.set(title=TITLES.get(panel, panel.replace("_", " ")), xlabel="", ylabel="")
    fig.suptitle(f"Tickets per ViT block and component, round {smk.params.round} "
                 f"(mean over {data['seed'].nunique()} seeds)")
    plotting.save(fig, smk.output)


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
