"""Every registered architecture: output layer, prunable layers, bounded representations."""

import pytest
import torch

from dilt import arch_layers, blocks, masks, models
from dilt.batches import TensorFeed
from dilt.io import DiltError
from dilt.representations import CountSketch, Reducer, layer_outputs

# arch -> (input shape, number of prunable weights, representation layers)
CASES = {
    "conv2": ((3, 32, 32), 4, ["conv1", "conv2", "fc1", "fc2"]),
    "conv6": ((3, 32, 32), 8, ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "fc1",
                               "fc2"]),
    "conv1d": ((1, 40), 4, ["conv1", "conv2", "conv3", "fc1"]),
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


def test_conv1d_halves_the_signal_three_times_and_rejects_images():
    _, model = build("conv1d", (1, 40))
    assert model.conv1.weight.shape == (4, 1, 5)
    assert model.fc1.in_features == 4 * 5  # 40 -> 20 -> 10 -> 5
    _, odd = build("conv1d", (2, 41))
    assert odd.conv1.in_channels == 2 and odd.fc1.in_features == 4 * 6  # 41 -> 21 -> 11 -> 6
    with pytest.raises(Exception, match="model.arch"):
        build("conv1d", (1, 8, 8))


def test_vit_gw_nodes_are_attention_and_mlp_outputs_over_their_mask_keys():
    cfg, model = build("vit_mini", (1, 8, 8))
    layers = models.representation_layers(model, cfg)
    assert layers[:3] == ["blocks.0.attn", "blocks.0.mlp", "blocks.1.attn"]
    keys = blocks.layer_keys(layers, models.prunable_names(model, cfg))
    assert keys["blocks.0.attn"] == ["blocks.0.attn.proj.weight", "blocks.0.attn.qkv.weight"]
    assert keys["blocks.3.mlp"] == ["blocks.3.mlp.fc1.weight", "blocks.3.mlp.fc2.weight"]


def test_the_config_knows_the_heads_of_exactly_the_vits():
    for arch in models.ARCHITECTURES:
        shape = {"lenet300": (1, 40), "conv1d": (1, 40), "vit_mini": (1, 8, 8)}
        cfg, model = build(arch, shape.get(arch, (3, 32, 32)))
        heads = model.blocks[0].attn.num_heads if hasattr(model, "blocks") else None
        assert arch_layers.VIT_HEADS.get(arch) == heads, arch


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


# model.ignore lists; each test keeps the entries that name a prunable layer of its model
IGNORES = [[], ["conv1"], ["conv1.weight", "fc2"],
           [f"layer1.0.{x}" for x in ("conv1", "conv2", "conv3", "downsample.0")],
           [f"blocks.0.{x}" for x in arch_layers.VIT_BLOCK]]


@pytest.mark.parametrize("arch", models.ARCHITECTURES)
def test_the_torch_free_layer_lists_match_the_built_models(arch):
    shape = {"lenet300": (1, 40), "conv1d": (1, 40), "vit_mini": (1, 8, 8)}.get(arch, (3, 32, 32))
    known = arch_layers.prunable_layers({**CFG, "arch": arch})
    for ignore in IGNORES:
        cfg = {**CFG, "arch": arch,
               "ignore": [x for x in ignore if x.removesuffix(".weight") in known]}
        with torch.device("cpu" if arch == "lenet300" else "meta"):  # meta: no weights drawn
            model = models.build(cfg, shape, 5)
        assert arch_layers.prunable_layers(cfg) == models.prunable_layers(model, cfg)
        assert arch_layers.representation_layers(cfg) == models.representation_layers(model, cfg)


@pytest.mark.parametrize("arch", models.ARCHITECTURES)
def test_the_torch_free_input_check_agrees_with_the_models(arch):
    assert set(arch_layers.LAYERS) == set(arch_layers.INPUTS) == set(models.ARCHITECTURES)
    device = "cpu" if arch == "lenet300" else "meta"
    for shape in [(1, 40), (1, 8, 8), (3, 32, 32), (3, 40, 40)]:
        try:
            arch_layers.check_input(arch, shape)
            accepted = True
        except DiltError:
            accepted = False
        try:
            with torch.device(device):
                models.build({**CFG, "arch": arch}, shape, 5)(torch.zeros(2, *shape))
            runs = True
        except Exception:  # whatever the builder or the forward pass raises
            runs = False
        assert accepted == runs, shape
