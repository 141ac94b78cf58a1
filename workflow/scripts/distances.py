"""Rule distances: probe-set pairwise-distance matrix of each prunable layer of one chain."""

from dilt import io, jobs, models
from dilt.gw import distance_matrix
from dilt.representations import layer_outputs
from dilt.script import run, threads


def main(smk, log):
    threads(smk)
    split, manifest = jobs.context(smk)
    model = jobs.model_from(smk, split, manifest, smk.input.trained)
    probe = split[2][manifest["probe"]]
    layers = models.prunable_layers(model, smk.params.model)
    outputs = layer_outputs(model, layers, probe)
    log(f"{len(probe)} probe inputs, layers {layers}")
    io.save_npz(smk.output[0], {name: distance_matrix(rep.numpy())
                                for name, rep in outputs.items()})


run(main, snakemake)  # noqa: F821
