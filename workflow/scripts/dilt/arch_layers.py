"""Each architecture's layers by name and the inputs it takes, without torch, for the checks
of the config parse.

For every entry of models.ARCHITECTURES: the representation layers the GW analysis compares
(in network order), each with the prunable layers inside it, and the prunable layers outside
any representation layer. The names do not depend on model.width, model.fc_width, the input
shape or the number of classes. tests/test_architectures.py builds every model and compares
with models.prunable_layers and models.representation_layers.
"""

from .io import DiltError

VIT_BLOCK = ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")
# Attention heads per block of the plain timm ViTs: the ViT overlap table, the ViT figure and
# the methods with arch_family "vit" need them.
VIT_HEADS = {"deit_small": 6, "vit_tiny": 3, "vit_mini": 4}


def _convnet(depth):
    return {name: [name] for name in [*(f"conv{i + 1}" for i in range(depth)), "fc1", "fc2"]}


def _resnet(blocks, convs):
    """Stem conv1 and residual blocks layer{i}.{j}; the first block of a stage has a shortcut
    convolution where the shape changes (every stage of the bottleneck ResNets)."""
    layers = {"conv1": ["conv1"]}
    for i, n in enumerate(blocks, 1):
        for j in range(n):
            inner = [f"conv{c}" for c in range(1, convs + 1)]
            if j == 0 and (i > 1 or convs == 3):
                inner.append("downsample.0")
            layers[f"layer{i}.{j}"] = [f"layer{i}.{j}.{x}" for x in inner]
    return layers


def _mobilenet_v2():
    layers = {"features.0": ["features.0.0"],
              "features.1": ["features.1.conv.0.0", "features.1.conv.1"]}
    for i in range(2, 18):
        layers[f"features.{i}"] = [f"features.{i}.conv.{x}" for x in ("0.0", "1.0", "2")]
    layers["features.18"] = ["features.18.0"]
    return layers


def _vit(depth):
    """Each block's attention output (qkv, proj inside) and MLP output (fc1, fc2)."""
    layers = {}
    for i in range(depth):
        for module in ("attn", "mlp"):
            layers[f"blocks.{i}.{module}"] = [f"blocks.{i}.{x}" for x in VIT_BLOCK
                                              if x.startswith(f"{module}.")]
    return layers


# arch -> ({representation layer: prunable layers inside}, prunable layers outside them)
LAYERS = {
    "conv2": (_convnet(2), []),
    "conv4": (_convnet(4), []),
    "conv6": (_convnet(6), []),
    "conv1d": ({name: [name] for name in ("conv1", "conv2", "conv3", "fc1")}, []),
    "lenet300": ({"fc1": ["fc1"], "fc2": ["fc2"]}, []),
    "resnet18_cifar": (_resnet((2, 2, 2, 2), 2), []),
    "resnet50": (_resnet((3, 4, 6, 3), 3), []),
    "mobilenet_v2": (_mobilenet_v2(), []),
    "deit_small": (_vit(12), ["patch_embed.proj"]),
    "vit_tiny": (_vit(12), ["patch_embed.proj"]),
    "vit_mini": (_vit(4), ["patch_embed.proj"]),
}


# arch -> (what its input must be, the side its square images must be divisible by)
INPUTS = {"conv2": ("images", 1), "conv4": ("images", 1), "conv6": ("images", 1),
          "conv1d": ("signals", 1),
          "lenet300": ("any", 1), "resnet18_cifar": ("images", 1), "resnet50": ("RGB images", 1),
          "mobilenet_v2": ("RGB images", 1), "deit_small": ("RGB images", 16),
          "vit_tiny": ("RGB images", 16), "vit_mini": ("images", 4)}


def check_input(arch, shape):
    """DiltError naming model.arch unless `arch` takes inputs of `shape` (C, H, W) or (C, L):
    Conv-N, ResNets and ViTs need images, the torchvision and timm models RGB ones, the ViTs
    square images whose side their patch grid divides, the 1-D CNN signals; LeNet takes
    anything."""
    kind, divisor = INPUTS[arch]
    if kind == "any":
        return
    if kind == "signals":
        if len(shape) != 2:
            raise DiltError(f"model.arch: {arch} needs signals (channels, length), the dataset "
                            f"gives inputs of shape {tuple(shape)}")
        return
    if len(shape) != 3 or (kind == "RGB images" and shape[0] != 3):
        raise DiltError(f"model.arch: {arch} needs {kind}, the dataset gives inputs of shape "
                        f"{tuple(shape)}")
    if divisor > 1 and (shape[1] != shape[2] or shape[1] % divisor):
        raise DiltError(f"model.arch: {arch} needs square images with sides divisible by "
                        f"{divisor}, the dataset gives {shape[1]}x{shape[2]}")


def _ignored(layer, ignore):
    return layer in ignore or f"{layer}.weight" in ignore


def prunable_layers(model_cfg):
    """Prunable layer names of model.arch after model.ignore, in network order."""
    inside, outside = LAYERS[model_cfg["arch"]]
    ignore = set(model_cfg["ignore"])
    everything = outside + [x for inner in inside.values() for x in inner]
    return [x for x in everything if not _ignored(x, ignore)]


def representation_layers(model_cfg):
    """Representation layers of model.arch that keep a prunable layer after model.ignore."""
    inside, _ = LAYERS[model_cfg["arch"]]
    ignore = set(model_cfg["ignore"])
    return [layer for layer, inner in inside.items()
            if not all(_ignored(x, ignore) for x in inner)]


def check_ignore(model_cfg):
    """Every model.ignore entry names a prunable layer (module or weight) of model.arch."""
    inside, outside = LAYERS[model_cfg["arch"]]
    known = set(outside) | {x for inner in inside.values() for x in inner}
    unknown = [x for x in model_cfg["ignore"] if x not in known and x.removesuffix(".weight")
               not in known]
    if unknown:
        raise DiltError(f"model.ignore: {unknown} are not prunable layers of "
                        f"{model_cfg['arch']} (e.g. {', '.join(sorted(known)[:4])})")
    if not representation_layers(model_cfg):
        raise DiltError(f"model.ignore: keeps no layer of {model_cfg['arch']} prunable")
