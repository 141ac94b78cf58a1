# DiLT: the Disentangled Lottery Ticket study as one file-based DAG. See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/imp.smk"
include: "rules/tickets.smk"
include: "rules/matching.smk"
include: "rules/baselines.smk"
include: "rules/retrain.smk"
include: "rules/transfer.smk"
include: "rules/analysis.smk"
include: "rules/figures.smk"
include: "rules/cost.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
