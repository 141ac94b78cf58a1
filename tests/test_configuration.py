"""Parse-time checks that need no schema: layer nodes of the GW analysis, model.ignore, the
experiment name the Makefile reads."""

import copy

import pytest

from dilt import configuration, datasets
from dilt.io import DiltError

DIGITS = datasets.REGISTRY["digits"]

CFG = {"model": {"arch": "conv4", "width": 4, "fc_width": 16, "ignore": []},
       "partitions": {"k": 2}, "gw": {"n_clusters": None}, "dataset": {"image_size": None}}


def cfg_with(**sections):
    cfg = copy.deepcopy(CFG)
    for name, values in sections.items():
        cfg[name].update(values)
    return cfg


def test_layer_nodes_are_representation_layers_times_partitions():
    assert configuration.layer_nodes(CFG) == 12  # conv1-4, fc1, fc2; 2 partitions
    assert configuration.layer_nodes(cfg_with(model={"ignore": ["conv1.weight"]})) == 10
    assert configuration.layer_nodes(cfg_with(model={"arch": "resnet50"}, partitions={"k": 3})) \
        == 17 * 3


def test_n_clusters_may_reach_the_number_of_layer_nodes_but_not_pass_it():
    configuration.check_model(cfg_with(gw={"n_clusters": 12}), DIGITS)
    with pytest.raises(DiltError, match=r"gw.n_clusters: 13 clusters of 12 layer nodes \(6 "):
        configuration.check_model(cfg_with(gw={"n_clusters": 13}), DIGITS)


def test_ignore_entries_must_name_prunable_layers():
    configuration.check_model(cfg_with(model={"ignore": ["conv2", "fc1.weight"]}), DIGITS)
    with pytest.raises(DiltError, match=r"model.ignore: \['head'\] are not prunable"):
        configuration.check_model(cfg_with(model={"ignore": ["head"]}), DIGITS)


@pytest.mark.parametrize("name", ["digits", "mnist1d"])
def test_embedded_datasets_know_their_input_shape_without_loading(name):
    cfg = {"name": name, "test_fraction": 0.25, "split_seed": 0, "image_size": None}
    record = datasets.REGISTRY[name]
    assert datasets.input_shape(record, cfg) == datasets.load(cfg).input_shape


def test_the_model_must_take_the_dataset_inputs():
    cifar = datasets.REGISTRY["cifar10"]
    configuration.check_model(cfg_with(model={"arch": "resnet50"}), cifar)  # 3 x 32 x 32
    with pytest.raises(DiltError, match=r"model.arch: resnet50 needs RGB images, the dataset "
                       r"gives inputs of shape \(1, 8, 8\)"):
        configuration.check_model(cfg_with(model={"arch": "resnet50"}), DIGITS)
    with pytest.raises(DiltError, match="model.arch: conv4 needs images"):
        configuration.check_model(CFG, datasets.REGISTRY["mnist1d"])
    with pytest.raises(DiltError, match="deit_small needs square images with sides divisible "
                       "by 16, the dataset gives 200x200"):
        configuration.check_model(cfg_with(model={"arch": "deit_small"},
                                           dataset={"image_size": 200}),
                                  datasets.REGISTRY["imagenet"])


def test_experiment_of_merged_config_files(tmp_path):
    base, preset = tmp_path / "base.yaml", tmp_path / "preset.yaml"
    base.write_text("experiment: digits\nseeds: [0]\n")
    preset.write_text("seeds: [1]\n")
    assert configuration.experiment([base]) == "digits"
    assert configuration.experiment([base, preset]) == "digits"
    preset.write_text("experiment: cifar\n")
    assert configuration.experiment([base, preset]) == "cifar"
