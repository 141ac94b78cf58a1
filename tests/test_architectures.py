"""Every registered architecture: output layer, prunable layers, bounded representations."""

import pytest
import torch

from dilt import blocks, configuration, masks, models
from dilt.batches import TensorFeed
from dilt.representations import CountSketch, Reducer, layer_outputs

# arch -> (input shape, number of prunable weights, representation layers)
CASES = {
    "conv2": ((3, 32, 32), 4, ["conv1", "conv2", "fc1", "fc2"]),
    "conv6": ((3, 32, 32), 8, ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1",
                               "fc2"]),
    "lenet300": ((1, 40), 2, ["fc1", "fc2"]),
    "resnet18_cifar": ((3, 32, 32), 20, ["conv1"] + [f"layer{i}.{j}" for i in range(1, 5)
                                                      for j in range(2)]),
    "resnet50": ((3, 64, 64), 53, ["conv1"] + [f"layer{i}.{j}" for i, n in
                                               zip(range(1, 5), (3, 4, 6, 3), strict=True)
                                               for j in range(n)]),
    "mobilenet_v2": ((3, 32, 32), 52, [f"features.{i}" for i in range(19)]),
    "vit_tiny": ((3, 32, 32), 49, [f"blocks.{i}.{part}" for i in range(12)
                                   for part in ("attn", "mlp")]),
}
CFG = {"width": 4, "fc_width": 8, "ignore": []}


def build(arch, shape, classes=5):
    cfg = {**CFG, "arch": arch}
    return cfg, models.init_model(cfg, shape, classes, seed=0)


@pytest.mark.parametrize("arch", CASES)
def test_outputs_prunable_layers_and_representation_layers(arch):
    shape, n_prunable, reps = CASES[arch]
    cfg, model = build(arch, shape)
    model.eval()
    assert model(torch.randn(2, *shape)).shape == (2, 5)
    head = models.output_layer(cfg)
    names = models.prunable_names(model, cfg)
    assert len(names) == n_prunable and f"{head}.weight" not in names
    assert dict(model.named_modules())[head].out_features == 5
    assert models.representation_layers(model, cfg) == reps
    # every representation layer is a mask key or a group of them in the overlap table
    groups = masks.module_groups(names)
    assert all(f"{layer}.weight" in names or layer in groups for layer in reps)


def test_vit_prunes_patch_embedding_qkv_projection_and_mlp_only():
    cfg, model = build("vit_tiny", (3, 32, 32))
    names = models.prunable_names(model, cfg)
    assert names[0] == "patch_embed.proj.weight"
    assert set(names[1:5]) == {f"blocks.0.{x}.weight" for x in
                               ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")}
    assert model.embed_dim == 192 and len(model.blocks) == 12


def test_deit_small_and_torchvision_resnet50_have_their_published_sizes():
    _, deit = build("deit_small", (3, 224, 224), 1000)
    _, resnet = build("resnet50", (3, 224, 224), 1000)
    assert sum(p.numel() for p in deit.parameters()) == 22_050_664
    assert sum(p.numel() for p in resnet.parameters()) == 25_557_032


def test_vit_gw_nodes_are_attention_and_mlp_outputs_over_their_mask_keys():
    cfg, model = build("vit_mini", (1, 8, 8))
    layers = models.representation_layers(model, cfg)
    assert layers[:3] == ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn"]
    keys = blocks.layer_keys(layers, models.prunable_names(model, cfg))
    assert keys["blocks.0.attn"] == ["blocks.0.attn.proj.weight", "blocks.0.attn.qkv.weight"]
    assert keys["blocks.3.mlp"] == ["blocks.3.mlp.fc1.weight", "blocks.3.mlp.fc2.weight"]


def test_the_config_knows_the_heads_of_exactly_the_vits():
    for arch in models.ARCHITECTURES:
        cfg, model = build(arch, (1, 8, 8) if arch == "vit_mini" else (3, 32, 32))
        heads = model.blocks[0].attn.num_heads if hasattr(model, "blocks") else None
        assert configuration.VIT_HEADS.get(arch) == heads, arch


def test_vits_reject_image_sides_not_divisible_by_the_patch():
    with pytest.raises(Exception, match="model.arch"):
        build("vit_tiny", (3, 40, 40))


def test_count_sketch_bounds_width_and_keeps_distances():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 20000, generator=gen)
    reduce = Reducer("layer", 4096)
    y = reduce(x)
    assert y.shape == (30, 4096) and torch.equal(y, Reducer("layer", 4096)(x))
    d_full, d_sketch = torch.pdist(x) ** 2, torch.pdist(y) ** 2
    ratio = d_sketch / d_full
    assert abs(float(ratio.mean()) - 1) < 0.02 and float(ratio.std()) < 0.05
    assert Reducer("narrow", 4096)(x[:, :100]).shape == (30, 100)
    sketch = CountSketch(10, 3, seed=1, device="cpu")
    assert sketch(torch.eye(10)).abs().sum(1).tolist() == [1.0] * 10


def test_token_pooling_and_bounded_block_representations():
    cfg, model = build("vit_tiny", (3, 32, 32))
    feed = TensorFeed(torch.randn(6, 3, 32, 32), torch.zeros(6, dtype=torch.long))
    layers = models.representation_layers(model, cfg)[:2]
    widths = {}
    for pooling in ("all", "mean", "cls"):
        reps = layer_outputs(model, layers, feed, max_features=512, token_pooling=pooling)
        widths[pooling] = {tuple(r.shape) for r in reps.values()}
    assert widths == {"all": {(6, 512)}, "mean": {(6, 192)}, "cls": {(6, 192)}}
    cfg, model = build("resnet18_cifar", (3, 32, 32))
    reps = layer_outputs(model, ["conv1", "layer4.1"], feed, max_features=1000)
    assert reps["conv1"].shape == reps["layer4.1"].shape == (6, 1000)  # 64x32x32, 512x4x4
