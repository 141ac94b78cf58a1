"""Masked training keeps pruned weights at exactly zero; training is deterministic."""

import torch

from dilt import models, pruning, train
from dilt.feeds import TensorFeed

CFG = {"arch": "conv4", "width": 4, "fc_width": 16, "ignore": []}
TRAIN = {"epochs": 2, "batch_size": 16, "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}


def toy_data(n=96):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    y = (x.mean((1, 2, 3)) > 0).long() + 2 * (x[:, 0, 0, 0] > 0).long()
    return TensorFeed(x, y)


def sparse_model():
    model = models.init_model(CFG, (1, 8, 8), 4, seed=0)
    names = models.prunable_names(model, CFG)
    params = dict(model.named_parameters())
    ones = {n: torch.ones_like(params[n], dtype=torch.bool) for n in names}
    return model, pruning.magnitude_prune({n: params[n] for n in names}, ones, 0.7)


def test_pruned_weights_stay_exactly_zero_with_momentum_and_weight_decay():
    model, mask = sparse_model()
    train.train(model, mask, toy_data(), TRAIN, seed=0, log=lambda _: None)
    params = dict(model.named_parameters())
    for name, m in mask.items():
        assert (params[name][~m] == 0).all()
        assert (params[name][m] != 0).any()


def test_training_on_a_class_subset_uses_only_those_classes():
    model, mask = sparse_model()
    data = toy_data()
    stats = train.train(model, mask, data, TRAIN, seed=0, classes=[0, 3], log=lambda _: None)
    kept = int(torch.isin(data.labels, torch.tensor([0, 3])).sum())
    assert stats["steps"] == TRAIN["epochs"] * -(-kept // TRAIN["batch_size"])


def test_same_seed_gives_identical_weights():
    states = []
    for _ in range(2):
        model, mask = sparse_model()
        train.train(model, mask, toy_data(), TRAIN, seed=5, log=lambda _: None)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_prunable_layers_exclude_head_and_ignore_list():
    model = models.init_model({**CFG, "ignore": ["conv1"]}, (1, 8, 8), 4, seed=0)
    names = models.prunable_names(model, {**CFG, "ignore": ["conv1"]})
    assert "head.weight" not in names and "conv1.weight" not in names
    assert names == ["conv2.weight", "conv3.weight", "conv4.weight", "fc1.weight", "fc2.weight"]
