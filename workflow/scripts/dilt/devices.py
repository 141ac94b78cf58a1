"""The job's compute device (config key `device`) and the torch settings that go with it."""

import torch

from .io import DiltError


def select(name, log=None, key="device"):
    """torch.device for `auto` (CUDA when present), `cpu` or `cuda[:i]` (config `key`);
    `log`, if given, hears which device `auto` chose.

    On CUDA, speed comes before bitwise reproducibility: cuDNN autotuning and TF32 matmuls
    are on and kernels may be non-deterministic (CPU runs are deterministic, see set_threads).
    """
    chosen = name
    if name == "auto":
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(chosen)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DiltError(f"{key}: '{name}' requested but no CUDA device is visible")
        if (device.index or 0) >= torch.cuda.device_count():
            raise DiltError(f"{key}: '{name}' requested but only {torch.cuda.device_count()} "
                            f"CUDA device(s) are visible")
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if log is not None and name == "auto":
        log(f"device: auto chose {describe(device)['device']}")
    return device


def describe(device, processes=1):
    """What a result was computed with, JSON-able: device, GPU name, torch and CUDA versions,
    precision and the number of training processes. Nothing host- or time-specific on the
    CPU, so two CPU runs write identical metrics."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    if cuda and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return {"device": str(device),
            "gpu_name": torch.cuda.get_device_name(device) if cuda else None,
            "torch": torch.__version__, "cuda": torch.version.cuda if cuda else None,
            "precision": "bf16-autocast" if cuda else "fp32", "processes": processes}


def reseed(device, seed):
    """Seed the random generators of the CPU and of `device` (dropout, drop-path). Unlike
    torch.manual_seed, which also queues the seeding of every uninitialised backend with a
    formatted stack trace (about 0.3-1 ms), this costs microseconds: cheap enough per step."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        torch.cuda.default_generators[index].manual_seed(seed)


def autocast(device):
    """bf16 autocast on CUDA; a no-op context on the CPU."""
    from contextlib import nullcontext

    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def prepare(model, device):
    """Move the model to `device`; convolutional models use channels_last.

    channels_last is the layout oneDNN and cuDNN convolve fastest: on the CPU it makes the
    default Conv-4's training step ~16% cheaper (docs/performance.md). Values and their
    logical order (flatten, state_dict) do not depend on the layout.
    """
    model.to(device)
    if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        model.to(memory_format=torch.channels_last)
    return model


def to_input(x):
    """A batch in the layout prepare() gives models (channels_last for images)."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
