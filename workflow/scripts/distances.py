"""Rule distances: probe-set pairwise-distance matrix of each representation layer of one chain."""

from dilt import io, models, rule_job
from dilt.gw import distance_matrix
from dilt.representations import layer_outputs


def main(smk, log):
    rule_job.threads(smk)
    (_, test_feed), manifest = rule_job.context(smk, train=False, log=log)
    model = rule_job.model_from(smk, manifest, smk.input.trained)
    model.to(test_feed.device)
    probe = test_feed.subset(manifest["probe"])
    layers = models.representation_layers(model, smk.params.model)
    outputs = layer_outputs(model, layers, probe, smk.params.probe["max_features"],
                            smk.params.probe["token_pooling"])
    log(f"{len(probe)} probe inputs, layers {layers}, widths "
        f"{[rep.shape[1] for rep in outputs.values()]}")
    io.save_npz(smk.output[0], {name: distance_matrix(rep.numpy())
                                for name, rep in outputs.items()})


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
