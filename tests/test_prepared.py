"""Prepared datasets: shards hold the source's images in its order, conversion resumes after a
kill with the same bytes, and the batched uint8 augmentation is seeded and shaped."""

import numpy as np
import pytest
import torch
from fake_datasets import write_cifar10
from PIL import Image

from dilt import augment, datasets, disk_datasets, prepared
from dilt.io import DiltError

SHAPES = [(20, 30), (30, 20), (24, 24)]  # (height, width) of the fake JPEGs, in turn


def write_jpegs(root, classes=3, per_class=3, seed=0):
    """root/train/c<k>/<i>.jpg, non-square, a colour per class; returns ImageFolder."""
    from torchvision.datasets import ImageFolder

    rng = np.random.default_rng(seed)
    for c in range(classes):
        (root / "train" / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            h, w = SHAPES[(c * per_class + i) % len(SHAPES)]
            pixels = np.clip(rng.normal(60 + 60 * c, 20, (h, w, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "train" / f"c{c}" / f"{i}.jpg", quality=95)
    return ImageFolder(str(root / "train"))


@pytest.fixture
def folder(tmp_path):
    return write_jpegs(tmp_path)


def prepare(ds, out, resolution=16, **kwargs):
    return prepared.prepare("imagenet", ds, out, resolution, shard_size=4,
                            log=lambda _: None, **kwargs)


def test_shards_hold_the_source_images_labels_and_sizes_in_order(folder, tmp_path):
    index = prepare(folder, tmp_path / "p")
    assert index["labels"] == folder.targets == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [s["count"] for s in index["shards"]] == [4, 4, 1]
    split = prepared.PreparedSplit(tmp_path / "p")
    assert split.sizes.tolist() == [list(SHAPES[i % 3]) for i in range(9)]
    for i in (0, 5, 8):
        expected, _ = prepared.resize_file(folder.samples[i][0], 16)
        assert np.array_equal(split.gather([i])[0], expected)
    x, y = next(prepared.PreparedFeed(split, size=8).batches(16))
    assert y.tolist() == folder.targets and x.shape == (9, 3, 8, 8)


def test_images_are_squashed_to_the_square_whole(tmp_path):
    (tmp_path / "a" / "c").mkdir(parents=True)
    left_red = np.zeros((10, 40, 3), np.uint8)
    left_red[:, :20, 0], left_red[:, 20:, 2] = 255, 255
    Image.fromarray(left_red).save(tmp_path / "a" / "c" / "x.png")
    image, size = prepared.resize_file(tmp_path / "a" / "c" / "x.png", 8)
    assert size == (10, 40) and image.shape == (8, 8, 3)
    assert (image[:, :3, 0] == 255).all() and (image[:, 5:, 2] == 255).all()


def test_a_killed_conversion_resumes_with_the_missing_shards_only(folder, tmp_path,
                                                                  monkeypatch):
    prepare(folder, tmp_path / "whole")
    real, calls = prepared.resize_file, []

    def dies_at_image_6(path, resolution):
        calls.append(path)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the job is killed while writing shard 1
        return real(path, resolution)

    monkeypatch.setattr(prepared, "resize_file", dies_at_image_6)
    with pytest.raises(KeyboardInterrupt):
        prepare(folder, tmp_path / "killed")
    monkeypatch.setattr(prepared, "resize_file", real)
    out = tmp_path / "killed"
    assert sorted(p.name for p in out.glob("shard_*")) == ["shard_00000.safetensors"]
    assert not (out / "index.json").exists()
    (out / ".shard_00001.safetensors.x.tmp").write_bytes(b"half a shard")
    first = (out / "shard_00000.safetensors").stat().st_mtime_ns
    messages = []
    prepared.prepare("imagenet", folder, out, 16, shard_size=4, log=messages.append)
    assert "1 of 3 shards present, writing 2" in messages[0]
    assert (out / "shard_00000.safetensors").stat().st_mtime_ns == first
    assert not list(out.glob(".*.tmp"))
    for name in ("index.json", *(prepared.shard_name(i) for i in range(3))):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_parallel_workers_write_the_same_shards(folder, tmp_path):
    prepare(folder, tmp_path / "one")
    prepare(folder, tmp_path / "two", workers=2)
    for i in range(3):
        name = prepared.shard_name(i)
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_another_resolution_is_another_output_and_a_changed_source_starts_over(tmp_path):
    ds = write_jpegs(tmp_path / "src")
    low, high = (prepared.split_dir(tmp_path / "prep", "imagenet", r, True) for r in (16, 24))
    assert low.parent.name == "imagenet-16px" and low != high
    prepare(ds, low)
    before = (low / "shard_00000.safetensors").read_bytes()
    prepare(ds, high, resolution=24)
    assert (low / "shard_00000.safetensors").read_bytes() == before
    assert prepared.PreparedSplit(high).gather([0]).shape == (1, 24, 24, 3)
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp_path / "src/train/c2/9.jpg")
    from torchvision.datasets import ImageFolder

    index = prepare(ImageFolder(str(tmp_path / "src" / "train")), low)
    assert len(index["labels"]) == 10 and [s["count"] for s in index["shards"]] == [4, 4, 2]


def test_training_batches_are_seeded_shaped_and_resizable(folder, tmp_path):
    prepare(folder, tmp_path / "p")
    feed = prepared.PreparedFeed(prepared.PreparedSplit(tmp_path / "p"), train=True, size=12)

    def one_pass(seed):
        return [(x, y) for x, y in feed.batches(4, torch.Generator().manual_seed(seed))]

    a, b, c = one_pass(1), one_pass(1), one_pass(2)
    assert [x.shape for x, _ in a] == [(4, 3, 12, 12), (4, 3, 12, 12), (1, 3, 12, 12)]
    assert all(x.dtype == torch.float32 for x, _ in a)
    assert all(torch.equal(xa, xb) and torch.equal(ya, yb)
               for (xa, ya), (xb, yb) in zip(a, b, strict=True))
    assert not torch.equal(torch.cat([x for x, _ in a]), torch.cat([x for x, _ in c]))
    feed.size = 8  # progressive resizing: the next epoch's resolution
    assert next(feed.batches(4, torch.Generator().manual_seed(1)))[0].shape == (4, 3, 8, 8)


def test_evaluation_batches_are_deterministic_center_crops(folder, tmp_path):
    prepare(folder, tmp_path / "p")
    feed = prepared.PreparedFeed(prepared.PreparedSplit(tmp_path / "p"), size=8)
    first = torch.cat([x for x, _ in feed.batches(4)])
    assert torch.equal(first, torch.cat([x for x, _ in feed.batches(4)]))
    # the central square of side 0.875 x the shorter side, in source pixels
    boxes = augment.center_boxes(torch.tensor([[20, 40], [40, 20]]))
    assert boxes.tolist() == [[11.25, 1.25, 28.75, 18.75], [1.25, 11.25, 18.75, 28.75]]
    assert augment.to_stored(boxes, torch.tensor([[20, 40], [40, 20]]), 16)[0].tolist() == [
        4.5, 1.0, 11.5, 15.0]


def test_restrict_and_subset_pick_and_relabel_like_the_other_feeds(folder, tmp_path):
    prepare(folder, tmp_path / "p")
    feed = prepared.PreparedFeed(prepared.PreparedSplit(tmp_path / "p"), size=8)
    everything = torch.cat([x for x, _ in feed.batches(16)])
    part = feed.restrict([2, 0])
    x, y = next(part.batches(16))
    assert y.tolist() == [1, 1, 1, 0, 0, 0] and torch.equal(x, everything[[0, 1, 2, 6, 7, 8]])
    x, y = next(feed.subset([7, 3]).batches(16))
    assert y.tolist() == [2, 1] and torch.equal(x, everything[[7, 3]])


def test_random_resized_crop_boxes_keep_scale_and_aspect_in_source_pixels():
    sizes = torch.tensor([[375, 500], [500, 375], [100, 100]]).repeat(200, 1)
    boxes = augment.rrc_boxes(sizes, torch.Generator().manual_seed(0))
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    area = w * h / (sizes[:, 0] * sizes[:, 1])
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= sizes[:, 1] + 1e-9).all()
    assert (boxes[:, 3] <= sizes[:, 0] + 1e-9).all()
    assert area.min() >= 0.08 - 1e-9 and area.max() <= 1 + 1e-9
    assert (w / h).min() >= 3 / 4 - 1e-9 and (w / h).max() <= 4 / 3 + 1e-9
    # a 1 x 100 strip never fits a crop: the centred whole height at aspect 4/3
    strip = augment.rrc_boxes(torch.tensor([[1, 100]]), torch.Generator().manual_seed(0))
    assert torch.allclose(strip, torch.tensor([[50 - 2 / 3, 0, 50 + 2 / 3, 1]],
                                              dtype=torch.float64))


def test_batched_and_per_image_resampling_agree_and_flip():
    ramp = torch.arange(32, dtype=torch.float32) * 8
    images = (ramp[None, :, None] + ramp[:, None, None] * 0).expand(2, 32, 32, 3)
    images = images.round().to(torch.uint8).contiguous()
    boxes = torch.tensor([[0.0, 0.0, 32.0, 32.0], [4.0, 8.0, 20.0, 24.0]], dtype=torch.float64)
    flip = torch.tensor([False, True])
    each = augment._crop_resize_each(images, boxes, 16, flip)
    batched = augment._crop_resize_batched(images, boxes, 16, flip)
    assert each.shape == batched.shape == (2, 16, 16, 3) and each.dtype == torch.uint8
    assert (each.int() - batched.int()).abs().max() <= 2
    assert torch.equal(augment._crop_resize_each(images[:1], boxes[:1], 32, flip[:1]),
                       images[:1])
    assert each[1, 0, 0, 0] > each[1, 0, -1, 0]  # mirrored: the ramp now falls


def test_cifar_pad_crop_shifts_with_zeros_and_flips():
    images = torch.arange(2 * 4 * 4 * 3, dtype=torch.uint8).reshape(2, 4, 4, 3)
    same = augment.pad_crop(images, torch.tensor([[2, 2], [2, 2]]), torch.tensor([0, 1]) > 0, 2)
    assert torch.equal(same[0], images[0]) and torch.equal(same[1], images[1].flip(1))
    shifted = augment.pad_crop(images, torch.tensor([[0, 0], [4, 4]]), torch.zeros(2) > 0, 2)
    assert (shifted[0, :2] == 0).all() and torch.equal(shifted[0, 2:, 2:], images[0, :2, :2])
    assert torch.equal(shifted[1, :2, :2], images[1, 2:, 2:]) and (shifted[1, 2:] == 0).all()


def test_normalize_scales_each_channel():
    images = torch.tensor([[[[0, 51, 255]]]], dtype=torch.uint8)  # one pixel, (1, 1, 1, 3)
    x = augment.normalize(images, (0.0, 0.1, 0.5), (1.0, 0.2, 0.5))
    assert x.shape == (1, 3, 1, 1)
    assert torch.allclose(x.flatten(), torch.tensor([0.0, 0.5, 1.0]))


def test_progressive_size_follows_ffcv_schedule():
    sizes = [augment.progressive_size(e, 160, 192, 11, 13) for e in range(16)]
    assert sizes == [160] * 12 + [192] * 4
    assert augment.progressive_size(6, 128, 256, 0, 8) == 224  # 128 + 6/8 x 128
    assert augment.progressive_size(3, 128, 256, 0, 8) == 192  # 176 = 5.5 x 32, to even


def test_cifar_is_stored_as_is_and_evaluates_like_the_torchvision_transform(tmp_path):
    written = write_cifar10(tmp_path, train_per_class=1, test_per_class=1)
    test = disk_datasets.open_split(datasets.info("cifar10"), tmp_path, False, 32)
    prepared.prepare("cifar10", test, tmp_path / "p", None, shard_size=4, log=lambda _: None)
    split = prepared.PreparedSplit(tmp_path / "p")
    assert np.array_equal(split.gather(range(10)), written["test"][0])
    x, y = next(prepared.PreparedFeed(split).batches(10))
    reference = disk_datasets.open_split(datasets.info("cifar10"), tmp_path, False, 32,
                                         transforms=True)
    assert torch.allclose(x, torch.stack([reference[i][0] for i in range(10)]), atol=1e-5)
    assert y.tolist() == written["test"][1]
    train = prepared.PreparedFeed(split, train=True)
    xa, _ = next(train.batches(10, torch.Generator().manual_seed(0)))
    assert xa.shape == (10, 3, 32, 32) and not torch.equal(xa, x)


def test_stale_or_missing_shards_and_other_labels_are_one_line_errors(folder, tmp_path):
    prepare(folder, tmp_path / "p")
    with pytest.raises(DiltError, match="partitions rule listed; rerun the prepare rule"):
        prepared.open_feed(tmp_path / "p", [0] * 9)
    assert len(prepared.open_feed(tmp_path / "p", folder.targets)) == 9
    (tmp_path / "p" / "shard_00001.safetensors").unlink()
    with pytest.raises(DiltError, match="shard_00001.safetensors: missing"):
        prepared.PreparedSplit(tmp_path / "p")


def test_training_on_a_prepared_feed_is_deterministic(tmp_path):
    from dilt import models, train

    write_cifar10(tmp_path, train_per_class=4, test_per_class=1)
    ds = disk_datasets.open_split(datasets.info("cifar10"), tmp_path, True, 32)
    prepared.prepare("cifar10", ds, tmp_path / "p", None, log=lambda _: None)
    recipe = {"epochs": 2, "batch_size": 16, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}
    states = []
    for _ in range(2):
        model = models.init_model({"arch": "conv2", "width": 4, "fc_width": 8, "ignore": []},
                                  (3, 32, 32), 10, seed=0)
        feed = prepared.open_feed(tmp_path / "p", ds.targets, train=True)
        train.train(model, None, feed, recipe, seed=3, classes=[0, 1, 2], log=lambda _: None)
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_an_unreadable_image_is_named(folder, tmp_path):
    bad = folder.samples[4][0]
    with open(bad, "wb") as fh:
        fh.write(b"not a jpeg")
    with pytest.raises(DiltError, match=f"{bad}: not a readable image"):
        prepare(folder, tmp_path / "p")
