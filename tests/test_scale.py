"""The proposal's scale: jobs read disk datasets prepared once, training resizes prepared
images per epoch, and the GW job takes its solver and device from the config."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from fake_datasets import write_cifar10
from PIL import Image
from torch import nn

from dilt import configuration, datasets, io, prepared, rule_job, train
from dilt.batches import TensorFeed, open_feeds
from dilt.gw import distance_matrix, gw_matrix
from dilt.io import DiltError
from dilt.paths import Paths

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow" / "scripts"


def run_script(name, **smk):
    """Call a rule script's main with a stand-in snakemake object; returns the log lines."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = []
    module.main(rule_job.stand_in(**smk), lines.append)
    return lines


def prepare_split(root, out, split, side=32):
    """Rule prepare_dataset's script on fake CIFAR-10 under `root`; returns its log."""
    return run_script("prepare_dataset", output={"index": str(out)},
                      params={"dataset": "cifar10", "side": side}, wildcards={"split": split},
                      config={"dataset": {"data_root": str(root)}})


@pytest.fixture
def cifar(tmp_path):
    write_cifar10(tmp_path / "src", train_per_class=2, test_per_class=1)
    return tmp_path / "src"


def test_prepare_rule_writes_the_index_and_a_moved_dataset_rewrites_nothing(cifar, tmp_path):
    index = Path(Paths("x", tmp_path).prepared("train", "cifar10", 32))
    assert index.parent == prepared.split_dir(tmp_path / "results/x/prepared", "cifar10", 32, True)
    prepare_split(cifar, index, "train")
    assert len(io.read_json(index)["labels"]) == 20
    shutil.move(cifar, tmp_path / "moved")
    log = prepare_split(tmp_path / "moved", index, "train")
    assert any("1 of 1 shards present, writing 0" in line for line in log)


def test_jobs_read_prepared_splits_with_the_inputs_of_the_dataset_itself(cifar, tmp_path):
    ds = datasets.load({"name": "cifar10", "data_root": str(cifar), "image_size": None})
    datasets.save_split(tmp_path / "data.safetensors", ds)
    manifest = {"dataset": "cifar10", "source": ds.source}
    index = {s: tmp_path / s / "index.json" for s in ("train", "test")}
    for split, path in index.items():
        prepare_split(cifar, path, split)
    direct = open_feeds(manifest, tmp_path / "data.safetensors", "cpu", 0, data_root=cifar)
    fed = open_feeds(manifest, tmp_path / "data.safetensors", "cpu", 0, prepared=index)
    assert isinstance(fed[1], prepared.PreparedFeed) and fed[0].train and not fed[1].train
    (xa, ya), (xb, yb) = next(direct[1].batches(10)), next(fed[1].batches(10))
    assert torch.equal(ya, yb) and torch.allclose(xa, xb, atol=1e-5)
    plain, _ = open_feeds(manifest, tmp_path / "data.safetensors", "cpu", 0, augment=False,
                          prepared=index)
    assert not plain.train


class Sizes(nn.Module):
    """Global-pooling classifier that records the side of every training batch."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc, self.seen = nn.Conv2d(3, 2, 3), nn.Linear(2, 2), []

    def forward(self, x):
        if self.training:
            self.seen.append(x.shape[-1])
        return self.fc(self.conv(x).mean((2, 3)))


def test_training_resizes_prepared_images_each_epoch(tmp_path):
    from torchvision.datasets import ImageFolder

    for c in range(2):
        (tmp_path / "jpg" / f"c{c}").mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((20, 30, 3), 80 * c, np.uint8)).save(
                tmp_path / "jpg" / f"c{c}" / f"{i}.jpg")
    prepared.prepare("imagenet", ImageFolder(str(tmp_path / "jpg")), tmp_path / "p", 24,
                     log=lambda _: None)
    feed = prepared.PreparedFeed(prepared.PreparedSplit(tmp_path / "p"), train=True, size=24)
    model = Sizes()
    recipe = {"epochs": 3, "batch_size": 3, "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0,
              "resolution": {"min_res": 8, "max_res": 16, "start_ramp": 0, "end_ramp": 1}}
    log = []
    train.train(model, None, feed, recipe, seed=0, log=log.append)
    assert model.seen == [8, 8, 16, 16, 16, 16]  # two batches an epoch: 8 px, then 16 px
    assert "at 8px" in log[1] and "at 16px" in log[3]


def test_progressive_resizing_of_a_feed_without_sizes_names_the_key():
    feed = TensorFeed(torch.zeros(4, 3, 8, 8), torch.tensor([0, 1, 0, 1]))
    recipe = {"epochs": 1, "batch_size": 2, "lr": 0.1, "momentum": 0.0, "weight_decay": 0.0,
              "resolution": {"min_res": 8, "max_res": 8, "start_ramp": 0, "end_ramp": 0}}
    with pytest.raises(DiltError, match="train.resolution"):
        train.train(Sizes(), None, feed, recipe, seed=0, log=lambda _: None)


def config(**sections):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name, values in sections.items():
        cfg[name].update(values)
    configuration.validate(cfg, REPO / "config" / "schema.yaml")
    return cfg


IMAGENET = {"name": "imagenet", "data_root": "/d", "image_size": 224, "prepared": True}
RES = {"min_res": 160, "max_res": 192, "start_ramp": 11, "end_ramp": 13}
BAD = [
    ({"dataset": {"prepared": True}}, "dataset.prepared"),  # digits live in memory
    ({"dataset": {**IMAGENET, "prepared": False}, "train": {"resolution": RES}},
     "train.resolution"),
    ({"dataset": {**IMAGENET, "name": "cifar10", "image_size": None},
      "train": {"resolution": RES}}, "train.resolution"),
    ({"dataset": IMAGENET, "train": {"resolution": {**RES, "min_res": 256}}},
     "train.resolution"),
    ({"dataset": IMAGENET, "train": {"resolution": RES}, "transfer": {"target": "mnist1d"}},
     "train.resolution"),
    ({"dataset": {**IMAGENET, "prepared_resolution": 192}}, "dataset.prepared_resolution"),
    ({"dataset": {**IMAGENET, "prepared_resolution": 224}, "transfer": {"target": None},
      "train": {"resolution": {**RES, "max_res": 256}}}, "dataset.prepared_resolution"),
    ({"gw": {"device": "cuda", "solver": "pot"}}, "gw.solver"),
    ({"gw": {"device": "gpu"}}, "gw.device"),
    ({"gw": {"solver": "exact"}}, "gw.solver"),
]


@pytest.mark.parametrize("sections,key", BAD, ids=[k for _, k in BAD])
def test_scale_settings_that_cannot_work_name_their_key(sections, key):
    with pytest.raises(DiltError, match=f"^{key}"):
        configuration.check(config(**sections))


def test_imagenet_settings_check_and_store_at_their_side():
    cfg = config(dataset=IMAGENET, model={"arch": "resnet50"}, train={"resolution": RES},
                 transfer={"target": None})
    configuration.check(cfg)
    assert configuration.prepared_side(cfg) == 256
    assert configuration.prepared_side(config(dataset={"name": "cifar10"})) == 32


def test_gw_job_uses_the_configured_solver(tmp_path):
    rng = np.random.default_rng(0)
    mats = {f"p{k}": {f"l{i}": distance_matrix(rng.normal(size=(12, 3 + i))) for i in range(2)}
            for k in range(2)}
    for part, layers in mats.items():
        io.save_npz(tmp_path / f"{part}.npz", layers)
    run_script("gw", input={p: str(tmp_path / f"{p}.npz") for p in mats},
               output={"table": str(tmp_path / "gw.tsv")},
               params={"parts": ["p0", "p1"], "solver": "swap", "device": "cpu"})
    table = io.read_tsv(tmp_path / "gw.tsv").set_index("node")
    flat = {f"{p}:{layer}": d for p, layers in mats.items() for layer, d in layers.items()}
    labels, expected = gw_matrix(flat, solver="swap")
    assert list(table.index) == labels
    assert np.allclose(table.to_numpy(), expected, rtol=1e-7)
