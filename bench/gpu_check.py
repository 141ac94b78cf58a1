"""Is this GPU ready for the ImageNet presets? (`make gpu-check`, a few minutes on one GPU)

Trains ResNet-50 and DeiT-S with the project's own training loop (dilt.train.train: bf16
autocast, channels_last, masked SGD / AdamW) on synthetic ImageNet-shaped data (224 px,
1000 classes, held on the GPU, so the data pipeline is not measured) under a random mask at
20% density, and prints per model: images/s after the warm-up steps, peak GPU memory, and
whether every pruned weight stayed exactly zero. Without CUDA it stops with one line.

    python bench/gpu_check.py [--steps 200] [--warmup 20] [--batch 256]
"""

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dilt import devices, imp, masks, models, train  # noqa: E402
from dilt.batches import TensorFeed  # noqa: E402

MODELS = {  # arch, optimizer settings of its preset
    "resnet50": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4},
    "deit_small": {"optimizer": "adamw", "lr": 5e-4, "momentum": 0.9, "weight_decay": 0.05},
}
IMAGES, CLASSES, DENSITY = 1024, 1000, 0.2


class Clock:
    """Training hook: the time at which `warmup` steps are done (after a device sync)."""

    def __init__(self, warmup):
        self.warmup, self.start = warmup, None

    def __call__(self, step, model, masks, opt):
        if step == self.warmup:
            torch.cuda.synchronize()
            self.start = time.perf_counter()


def check(arch, recipe, steps, warmup, batch, device):
    """(images/s, peak GiB, data GiB, pruned weights not zero) of one model."""
    cfg = {"arch": arch, "width": 16, "fc_width": 64, "ignore": []}
    model = models.init_model(cfg, (3, 224, 224), CLASSES, seed=0)
    names = models.prunable_names(model, cfg)
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters() if n in names}
    mask = {n: torch.from_numpy(m) for n, m in
            masks.random_global(shapes, DENSITY, np.random.default_rng(0)).items()}
    gen = torch.Generator(device).manual_seed(0)
    x = torch.randn(IMAGES, 3, 224, 224, device=device, generator=gen)
    y = torch.randint(0, CLASSES, (IMAGES,), device=device, generator=gen)
    data_gib = (x.numel() * x.element_size() + y.numel() * 8) / 2**30
    per_epoch = math.ceil(IMAGES / batch)
    settings = {**recipe, "epochs": math.ceil(steps / per_epoch), "batch_size": batch,
                "warmup_epochs": 0, "label_smoothing": 0.1}
    torch.cuda.reset_peak_memory_stats(device)
    clock = Clock(warmup)
    stats = train.train(model, mask, TensorFeed(x, y, device), settings, seed=0,
                        log=lambda _: None, hook=clock)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - clock.start
    rate = (stats["steps"] - warmup) * batch / seconds
    return rate, torch.cuda.max_memory_allocated(device) / 2**30, data_gib, \
        imp.pruned_nonzero(model, mask)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per model")
    parser.add_argument("--warmup", type=int, default=20, help="steps before timing starts")
    parser.add_argument("--batch", type=int, default=256, help="images per step")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"gpu-check: no CUDA device visible (torch {torch.__version__}, CUDA build "
              f"{torch.version.cuda}); run it on a GPU node", file=sys.stderr)
        return 1
    device = devices.select("cuda")
    info = devices.describe(device)
    print(f"{info['gpu_name']}, torch {info['torch']}, CUDA {info['cuda']}, "
          f"{info['precision']}; batch {args.batch}, {args.steps} steps, density {DENSITY}")
    failed = False
    for arch, recipe in MODELS.items():
        rate, peak, data, nonzero = check(arch, recipe, args.steps, args.warmup, args.batch,
                                          device)
        failed |= nonzero > 0
        print(f"{arch:>10}: {rate:7.0f} images/s, peak memory {peak:5.1f} GiB "
              f"({data:.1f} GiB of it synthetic data), pruned weights exactly zero: "
              f"{'yes' if nonzero == 0 else f'NO ({nonzero} nonzero)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
