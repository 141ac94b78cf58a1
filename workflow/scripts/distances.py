"""Rule distances: probe-set pairwise-distance matrix of each representation layer of one chain."""

from dilt import io, jobs, models
from dilt.gw import distance_matrix
from dilt.representations import layer_outputs
from dilt.script import run, threads


def main(smk, log):
    threads(smk)
    (_, test_feed), manifest = jobs.context(smk, train=False)
    model = jobs.model_from(smk, manifest, smk.input.trained)
    model.to(test_feed.device)
    probe = test_feed.subset(manifest["probe"])
    layers = models.representation_layers(model, smk.params.model)
    outputs = layer_outputs(model, layers, probe, smk.params.probe["max_features"],
                            smk.params.probe["token_pooling"])
    log(f"{len(probe)} probe inputs, layers {layers}, widths "
        f"{[rep.shape[1] for rep in outputs.values()]}")
    io.save_npz(smk.output[0], {name: distance_matrix(rep.numpy())
                                for name, rep in outputs.items()})


run(main, snakemake)  # noqa: F821
