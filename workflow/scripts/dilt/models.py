"""Architecture registry: builder, output layer and representation layers of each model.

Prunable layers are every Conv1d/Conv2d/Linear module except the output layer (and the
model.ignore list): for ResNets every convolution including the shortcut ones, for ViTs the
patch embedding, qkv, attention projection and MLP fc1/fc2. torchvision and timm are
imported only by the builders that need them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import torch
from torch import nn

from .io import DiltError


def he_init(model):
    """He-normal weights and zero biases for every conv/linear layer. PyTorch's default
    (uniform, gain 1/sqrt(3)) shrinks the signal at each ReLU layer; under a sparse mask the
    Conv-N and LeNet networks then start with a vanishing signal and stay at chance."""
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class ConvNet(nn.Module):
    """Conv-2/4/6 family (Frankle & Carbin): conv pairs with max-pooling, then FC layers, head."""

    def __init__(self, in_shape, num_classes, depth=4, width=64, fc_width=256):
        super().__init__()
        channels, size = in_shape[0], in_shape[1]
        self.convs = []
        for i in range(depth):
            out = width * 2 ** (i // 2)
            setattr(self, f"conv{i + 1}", nn.Conv2d(channels, out, 3, padding=1))
            self.convs.append(f"conv{i + 1}")
            channels = out
        size //= 2 ** (depth // 2)
        self.fc1 = nn.Linear(channels * size * size, fc_width)
        self.fc2 = nn.Linear(fc_width, fc_width)
        self.head = nn.Linear(fc_width, num_classes)
        he_init(self)

    def forward(self, x):
        for i, name in enumerate(self.convs):
            x = torch.relu(getattr(self, name)(x))
            if i % 2 == 1:
                x = nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        x = torch.relu(self.fc2(x))
        return self.head(x)


class Conv1dNet(nn.Module):
    """A small 1-D CNN for signals (C, L) such as MNIST-1D: `depth` Conv1d layers of `width`
    channels (kernel 5, stride 2, padding 2: each halves the length, rounding up), ReLU, one
    fully connected layer of `fc_width`, head."""

    def __init__(self, in_shape, num_classes, width, fc_width, depth=3):
        super().__init__()
        if len(in_shape) != 2:
            raise DiltError(f"model.arch: conv1d needs signals (channels, length), the "
                            f"dataset gives inputs of shape {tuple(in_shape)}")
        channels, length = in_shape
        self.convs = []
        for i in range(depth):
            setattr(self, f"conv{i + 1}", nn.Conv1d(channels, width, 5, stride=2, padding=2))
            self.convs.append(f"conv{i + 1}")
            channels, length = width, (length + 1) // 2
        self.fc1 = nn.Linear(channels * length, fc_width)
        self.head = nn.Linear(fc_width, num_classes)
        he_init(self)

    def forward(self, x):
        for name in self.convs:
            x = torch.relu(getattr(self, name)(x))
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.head(x)


class MLP(nn.Module):
    """LeNet-300-100 style fully connected network."""

    def __init__(self, in_shape, num_classes, hidden=(300, 100)):
        super().__init__()
        dims = [int(torch.tensor(in_shape).prod())] + list(hidden)
        self.layers = [f"fc{i + 1}" for i in range(len(hidden))]
        for name, (a, b) in zip(self.layers, pairwise(dims), strict=True):
            setattr(self, name, nn.Linear(a, b))
        self.head = nn.Linear(dims[-1], num_classes)
        he_init(self)

    def forward(self, x):
        x = x.flatten(1)
        for name in self.layers:
            x = torch.relu(getattr(self, name)(x))
        return self.head(x)


def _resnet18_cifar(cfg, in_shape, num_classes):
    """torchvision ResNet-18 with the CIFAR stem: 3x3 stride-1 first conv, no max-pooling."""
    from torchvision.models import resnet18

    model = resnet18(num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_shape[0], 64, 3, 1, 1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return model


def _rgb(name, in_shape):
    if len(in_shape) != 3 or in_shape[0] != 3:
        raise DiltError(f"model.arch: {name} needs RGB images, the dataset gives inputs of "
                        f"shape {tuple(in_shape)}")


def _torchvision(name):
    def build(cfg, in_shape, num_classes):
        from torchvision import models as tvm

        _rgb(name, in_shape)
        return getattr(tvm, name)(num_classes=num_classes)

    return build


def _timm(name):
    def build(cfg, in_shape, num_classes):
        import timm

        _rgb(name, in_shape)
        if in_shape[1] != in_shape[2] or in_shape[1] % 16:
            raise DiltError(f"model.arch: {name} needs square images with sides divisible by "
                            f"16, the dataset gives {in_shape[1]}x{in_shape[2]}")
        return timm.create_model(name, pretrained=False, num_classes=num_classes,
                                 img_size=in_shape[1])

    return build


def _vit_mini(cfg, in_shape, num_classes):
    """A ViT small enough for the CPU (timm VisionTransformer): 4 blocks of `width` channels
    and 4 heads, MLP hidden size `fc_width`, a class token, and 4 x 4 patches of the image
    (patch side = image side / 4: 2 pixels on 8x8 digits)."""
    from timm.models.vision_transformer import VisionTransformer

    if len(in_shape) != 3 or in_shape[1] != in_shape[2] or in_shape[1] % 4:
        raise DiltError(f"model.arch: vit_mini needs square images with sides divisible by 4, "
                        f"the dataset gives inputs of shape {tuple(in_shape)}")
    if cfg["width"] % 4:
        raise DiltError(f"model.width: vit_mini splits it over 4 heads, got {cfg['width']}")
    return VisionTransformer(img_size=in_shape[1], patch_size=in_shape[1] // 4,
                             in_chans=in_shape[0], num_classes=num_classes,
                             embed_dim=cfg["width"], depth=4, num_heads=4,
                             mlp_ratio=cfg["fc_width"] / cfg["width"])


def _resnet_blocks(model):
    """The stem convolution and every residual block (layer{i}.{j})."""
    return ["conv1"] + [f"layer{i}.{j}" for i in range(1, 5)
                        for j in range(len(getattr(model, f"layer{i}")))]


def _vit_blocks(model):
    """Each transformer block's attention output and MLP output (before the residual
    additions), block by block."""
    return [f"blocks.{i}.{part}" for i in range(len(model.blocks)) for part in ("attn", "mlp")]


@dataclass(frozen=True)
class Arch:
    """build(cfg, in_shape, num_classes) -> nn.Module; `head` is the output layer (never
    pruned); representations(model) names the modules whose outputs GW compares."""

    build: Callable
    head: str
    representations: Callable


def _convnet(depth):
    return Arch(lambda cfg, s, n: ConvNet(s, n, depth, cfg["width"], cfg["fc_width"]), "head",
                lambda m: [*m.convs, "fc1", "fc2"])


ARCHITECTURES = {
    "conv2": _convnet(2),
    "conv4": _convnet(4),
    "conv6": _convnet(6),
    "conv1d": Arch(lambda cfg, s, n: Conv1dNet(s, n, cfg["width"], cfg["fc_width"]), "head",
                   lambda m: [*m.convs, "fc1"]),
    "lenet300": Arch(lambda cfg, s, n: MLP(s, n, (cfg["width"], cfg["fc_width"])), "head",
                     lambda m: m.layers),
    "resnet18_cifar": Arch(_resnet18_cifar, "fc", _resnet_blocks),
    "resnet50": Arch(_torchvision("resnet50"), "fc", _resnet_blocks),
    "mobilenet_v2": Arch(_torchvision("mobilenet_v2"), "classifier.1",
                         lambda m: [f"features.{i}" for i in range(len(m.features))]),
    "deit_small": Arch(_timm("deit_small_patch16_224"), "head", _vit_blocks),
    "vit_tiny": Arch(_timm("vit_tiny_patch16_224"), "head", _vit_blocks),
    "vit_mini": Arch(_vit_mini, "head", _vit_blocks),
}


def _arch(cfg):
    try:
        return ARCHITECTURES[cfg["arch"]]
    except KeyError:
        raise DiltError(f"model.arch: unknown architecture '{cfg['arch']}'") from None


def build(cfg, in_shape, num_classes):
    """Build the model named by config key model.arch (width/fc_width: Conv-N and LeNet)."""
    return _arch(cfg).build(cfg, tuple(in_shape), num_classes)


def output_layer(cfg):
    return _arch(cfg).head


def prunable_layers(model, cfg):
    """Module names whose weights are pruned: conv/linear layers except the ignore list and the
    head (pruned too when cfg["head_rate"] > 0: imp.head_rate, last in the list)."""
    head, ignore = output_layer(cfg), set(cfg.get("ignore", []))
    layers = [
        name for name, module in model.named_modules()
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear))
        and name != head and name not in ignore and f"{name}.weight" not in ignore
    ]
    return layers + [head] if cfg.get("head_rate", 0) > 0 else layers


def prunable_names(model, cfg):
    """Parameter names (state_dict keys) that carry masks."""
    return [f"{name}.weight" for name in prunable_layers(model, cfg)]


def representation_layers(model, cfg):
    """Modules whose outputs the GW analysis compares, in network order: convolutions and
    fully connected layers (Conv-N, LeNet), the stem and residual blocks (ResNets), the
    inverted-residual blocks (MobileNetV2), each transformer block's attention and MLP output
    tokens (ViTs). Layers
    without a prunable weight inside (all in model.ignore) are left out."""
    prunable = prunable_layers(model, cfg)
    return [layer for layer in _arch(cfg).representations(model)
            if any(p == layer or p.startswith(f"{layer}.") for p in prunable)]


def init_model(cfg, in_shape, num_classes, seed):
    """theta0: a freshly initialised model, seeded."""
    torch.manual_seed(seed)
    return build(cfg, in_shape, num_classes)


def load_weights(model, state, path):
    """Load a state_dict, naming `path` when keys or shapes do not match the architecture."""
    own = model.state_dict()
    missing, extra = own.keys() - state.keys(), state.keys() - own.keys()
    if missing or extra:
        raise DiltError(f"{path}: keys do not match the architecture "
                        f"(missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]})")
    for key, value in state.items():
        if value.shape != own[key].shape:
            raise DiltError(f"{path}: '{key}' has shape {tuple(value.shape)}, "
                            f"the architecture expects {tuple(own[key].shape)}")
    model.load_state_dict(state)
