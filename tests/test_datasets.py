"""Loaders read tiny datasets written in the real formats; bad directories fail in one line."""

import shutil

import numpy as np
import pytest
import torch
from fake_datasets import write_cifar10, write_cifar100, write_class_folders, write_stanford_cars

from dilt import batches, configuration, datasets, disk_datasets, partitions, train
from dilt.io import DiltError


@pytest.fixture(scope="module")
def cifar10(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar10")
    return root, write_cifar10(root)


@pytest.fixture(scope="module")
def cars(tmp_path_factory):
    root = tmp_path_factory.mktemp("cars")
    return root, write_stanford_cars(root)


def cfg(name, root, image_size=None):
    return {"name": name, "data_root": str(root), "image_size": image_size}


def test_cifar10_batches_load_with_the_written_images_and_labels(cifar10):
    root, written = cifar10
    ds = datasets.load(cfg("cifar10", root))
    assert ds.num_classes == 10 and ds.input_shape == (3, 32, 32)
    assert ds.train.x is None and ds.source["storage"] == "disk"
    assert ds.train.y.tolist() == written["train"][1]
    assert ds.test.y.tolist() == written["test"][1]
    test = disk_datasets.open_split(datasets.info("cifar10"), root, False, 32, transforms=True)
    mean, std = (torch.tensor(v)[:, None, None] for v in datasets.info("cifar10").stats)
    for i in (0, 7):
        x, y = test[i]
        pixels = ((x * std + mean) * 255).permute(1, 2, 0).numpy()
        assert np.abs(pixels - written["test"][0][i]).max() < 1e-3 and y == written["test"][1][i]


def test_cifar_training_augmentation_crops_and_flips_evaluation_does_not(cifar10):
    root, _ = cifar10
    aug = disk_datasets.open_split(datasets.info("cifar10"), root, True, 32, transforms=True)
    plain = disk_datasets.open_split(datasets.info("cifar10"), root, True, 32)
    torch.manual_seed(0)
    views = torch.stack([aug[3][0] for _ in range(20)])
    assert views.shape == (20, 3, 32, 32)
    assert len({v.sum().item() for v in views}) > 1  # random crops/flips differ
    evaluation = disk_datasets.transform(datasets.info("cifar10"), False, 32)
    assert torch.equal(evaluation(plain[3][0]), evaluation(plain[3][0]))


def test_cifar100_loads_and_superclass_partitions_are_unions_of_superclasses(tmp_path):
    write_cifar100(tmp_path)
    ds = datasets.load(cfg("cifar100", tmp_path))
    assert ds.num_classes == 100 and np.bincount(ds.train.y).tolist() == [2] * 100
    parts = partitions.make_partitions(100, 4, "superclass", dataset="cifar100")
    coarse = np.asarray(partitions.CIFAR100_COARSE)
    assert sorted(c for p in parts for c in p["classes"]) == list(range(100))
    for i, p in enumerate(parts):
        assert set(coarse[p["classes"]]) == set(range(5 * i, 5 * i + 5))
    assert np.bincount(coarse).tolist() == [5] * 20


def test_animals_vs_vehicles_is_a_named_cifar10_scheme():
    parts = partitions.make_partitions(10, 2, "animals_vehicles", dataset="cifar10")
    assert [p["classes"] for p in parts] == [[2, 3, 4, 5, 6, 7], [0, 1, 8, 9]]
    with pytest.raises(DiltError, match="partitions.scheme"):
        partitions.make_partitions(100, 2, "animals_vehicles", dataset="cifar100")


def test_stanford_cars_loads_the_official_layout_with_train_and_eval_transforms(cars):
    root, listed = cars
    ds = datasets.load(cfg("cars", root, 32))
    assert ds.num_classes == 196 and ds.input_shape == (3, 32, 32)
    assert ds.train.y.tolist() == [c - 1 for c in listed["train"]]
    assert ds.test.y.tolist() == [c - 1 for c in listed["test"]]
    train_ds = disk_datasets.open_split(datasets.info("cars"), root, True, 32, transforms=True)
    test_ds = disk_datasets.open_split(datasets.info("cars"), root, False, 32, transforms=True)
    assert train_ds[0][0].shape == test_ds[0][0].shape == (3, 32, 32)
    assert torch.equal(test_ds[5][0], test_ds[5][0])
    # contiguous K=2 is the proposal's split of official class ids 1-98 / 99-196
    parts = partitions.make_partitions(196, 2)
    assert parts[0]["classes"] == list(range(98)) and parts[1]["classes"] == list(range(98, 196))


def test_mnist1d_is_generated_offline():
    ds = datasets.load({"name": "mnist1d"})
    assert ds.train.x.shape == (4000, 1, 40) and ds.test.x.shape == (1000, 1, 40)
    assert sorted(set(ds.train.y.tolist())) == list(range(10)) and ds.input_shape == (1, 40)


def _one_line(exc, *needles):
    message = str(exc.value)
    assert "\n" not in message
    for needle in needles:
        assert str(needle) in message, message


def test_missing_or_malformed_cifar_directories_name_the_path(tmp_path, cifar10):
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("cifar10", tmp_path / "nowhere"))
    _one_line(exc, tmp_path / "nowhere" / "cifar-10-batches-py", "data_batch_1..5")
    root = tmp_path / "broken"
    shutil.copytree(cifar10[0], root)
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle at all")
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("cifar10", root))
    _one_line(exc, root / "cifar-10-batches-py", "python batches")
    (root / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("cifar10", root))
    _one_line(exc, "missing test_batch")


def test_missing_or_malformed_class_folders_name_the_path(tmp_path):
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("imagenet", tmp_path / "imagenet"))
    _one_line(exc, tmp_path / "imagenet", "train/<class>", "val/<class>")
    write_class_folders(tmp_path / "few", 3)
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("imagenet", tmp_path / "few"))
    _one_line(exc, tmp_path / "few" / "train", "3 class folders, expected 1000")
    write_class_folders(tmp_path / "inet", 1000, per_class=(1, 1), size=8)
    empty = tmp_path / "inet" / "val" / "c007"
    for png in empty.iterdir():
        png.unlink()
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("imagenet", tmp_path / "inet"))
    _one_line(exc, tmp_path / "inet" / "val", "c007")
    shutil.rmtree(tmp_path / "inet" / "val")
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("imagenet", tmp_path / "inet"))
    _one_line(exc, "needs train/ and val/ or test/")
    with pytest.raises(DiltError) as exc:
        datasets.load(cfg("cars", tmp_path / "inet"))
    _one_line(exc, tmp_path / "inet" / "stanford_cars" / "devkit" / "cars_meta.mat", "missing")


BAD = [
    ({"name": "cars", "data_root": None}, {}, "dataset.data_root"),
    ({"name": "cifar10", "data_root": "/d", "image_size": 64}, {}, "dataset.image_size"),
    ({"name": "digits"}, {"scheme": "animals_vehicles"}, "partitions.scheme"),
    ({"name": "cifar10", "data_root": "/d"}, {"scheme": "animals_vehicles", "k": 3},
     "partitions.scheme"),
    ({"name": "cifar100", "data_root": "/d"}, {"scheme": "superclass", "k": 21},
     "partitions.scheme"),
    ({"name": "cifar100", "data_root": "/d"}, {"scheme": "superclass", "classes": [[0], [1]]},
     "partitions.classes"),
]


@pytest.mark.parametrize("dataset,parts,key", BAD, ids=[k for *_, k in BAD])
def test_dataset_and_scheme_mismatches_are_config_errors(dataset, parts, key):
    config = {"dataset": {"image_size": None, "data_root": None, **dataset},
              "partitions": {"k": 2, "scheme": "contiguous", "classes": None, "seed": 0, **parts}}
    with pytest.raises(DiltError, match=key):
        record = configuration.check_dataset(config)
        configuration.check_partitions(config, record.num_classes)


def test_loader_feed_restricts_subsets_and_shuffles_like_the_tensor_feed(cifar10, tmp_path):
    root, written = cifar10
    ds = datasets.load(cfg("cifar10", root))
    datasets.save_split(tmp_path / "data.safetensors", ds)
    manifest = {"dataset": "cifar10", "source": ds.source}
    train_feed, test_feed = batches.open_feeds(manifest, tmp_path / "data.safetensors", "cpu", 0,
                                               data_root=root)
    labels = torch.as_tensor(written["train"][1])
    part = train_feed.restrict([8, 2])
    assert len(part) == 20 and part.labels.tolist() == [{8: 0, 2: 1}[int(c)] for c in
                                                         labels[torch.isin(labels,
                                                                           torch.tensor([2, 8]))]]
    seen = torch.cat([y for _, y in part.batches(6, torch.Generator().manual_seed(1))])
    assert sorted(seen.tolist()) == sorted(part.labels.tolist())
    assert not torch.equal(seen, part.labels)
    probe = test_feed.subset([3, 0, 5])
    x, y = next(probe.batches(8))
    assert x.shape == (3, 3, 32, 32) and y.tolist() == [written["test"][1][i] for i in (3, 0, 5)]


def test_training_on_a_disk_dataset_keeps_masks_and_is_deterministic(cifar10, tmp_path):
    from dilt import models

    root, _ = cifar10
    datasets.save_split(tmp_path / "d.safetensors", datasets.load(cfg("cifar10", root)))
    manifest = {"dataset": "cifar10", "source": datasets.load(cfg("cifar10", root)).source}
    model_cfg = {"arch": "conv2", "width": 4, "fc_width": 8, "ignore": []}
    recipe = {"epochs": 2, "batch_size": 16, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}
    states = []
    for workers in (0, 2, 2):
        model = models.init_model(model_cfg, (3, 32, 32), 10, seed=0)
        mask = {n: torch.rand_like(p) > 0.5 for n, p in model.named_parameters()
                if n in models.prunable_names(model, model_cfg)}
        train_feed, test_feed = batches.open_feeds(manifest, tmp_path / "d.safetensors", "cpu",
                                                 workers, data_root=root)
        stats = train.train(model, mask, train_feed, recipe, seed=3, classes=[0, 1, 2],
                            log=lambda _: None)
        assert stats["steps"] == 2 * 2
        params = dict(model.named_parameters())
        assert all((params[n][~m] == 0).all() for n, m in mask.items())
        assert 0 <= train.evaluate(model, test_feed, [0, 1, 2]) <= 1
        states.append(model.state_dict())
    assert all(torch.equal(states[1][k], states[2][k]) for k in states[1])  # seeded workers
