"""Architecture registry: each model names its output layer; prunable = conv/linear weights."""

from itertools import pairwise

import torch
from torch import nn

from .io import DiltError


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

    def forward(self, x):
        for i, name in enumerate(self.convs):
            x = torch.relu(getattr(self, name)(x))
            if i % 2 == 1:
                x = nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        x = torch.relu(self.fc2(x))
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

    def forward(self, x):
        x = x.flatten(1)
        for name in self.layers:
            x = torch.relu(getattr(self, name)(x))
        return self.head(x)


ARCHITECTURES = {
    "conv2": (lambda s, n, w=64, fc=256: ConvNet(s, n, 2, w, fc), "head"),
    "conv4": (lambda s, n, w=64, fc=256: ConvNet(s, n, 4, w, fc), "head"),
    "conv6": (lambda s, n, w=64, fc=256: ConvNet(s, n, 6, w, fc), "head"),
    "lenet300": (lambda s, n, w=300, fc=100: MLP(s, n, (w, fc)), "head"),
}


def build(cfg, in_shape, num_classes):
    """Build the model named by config key model.arch (width/fc_width from the config)."""
    try:
        builder, _ = ARCHITECTURES[cfg["arch"]]
    except KeyError:
        raise DiltError(f"model.arch: unknown architecture '{cfg['arch']}'") from None
    return builder(tuple(in_shape), num_classes, cfg["width"], cfg["fc_width"])


def output_layer(cfg):
    return ARCHITECTURES[cfg["arch"]][1]


def prunable_layers(model, cfg):
    """Module names whose weights are pruned: conv/linear layers except the head and ignore list."""
    head, ignore = output_layer(cfg), set(cfg.get("ignore", []))
    return [
        name for name, module in model.named_modules()
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear))
        and name != head and name not in ignore and f"{name}.weight" not in ignore
    ]


def prunable_names(model, cfg):
    """Parameter names (state_dict keys) that carry masks."""
    return [f"{name}.weight" for name in prunable_layers(model, cfg)]


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
