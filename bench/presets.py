"""Measurements behind docs/presets.md, on this machine's CPU.

    python bench/presets.py steps    # per preset model: training FLOPs/image, CPU s/step, img/s
    python bench/presets.py loader   # training transforms: images per CPU-second (one worker)
    python bench/presets.py probe N  # peak RSS of ResNet-50 probe extraction, N images at 224px

Wall times depend on the machine's load; CPU-second rates (time.process_time) much less.
Training steps use the pipeline's own train() on random inputs (masks at density 1, SGD or
AdamW as in the preset); FLOPs are counted by torch's FlopCounterMode over one forward and
backward pass. The probe measurement runs the distances rule's path: class folders of JPEGs,
the evaluation transform, a DataLoader feed, count-sketched block outputs, then the n x n
distance matrices.
"""

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dilt import models, train  # noqa: E402
from dilt.batches import TensorFeed  # noqa: E402

# preset -> (arch, input shape, classes, batch measured on the CPU, optimizer, threads);
# the MLP runs single-threaded as in its preset (tiny ops lose to thread synchronisation).
CORES = os.cpu_count()
PRESETS = {
    "mnist1d-mlp": ("lenet300", (1, 40), 10, 100, "sgd", 1),
    "cifar10-resnet18": ("resnet18_cifar", (3, 32, 32), 10, 32, "sgd", CORES),
    "cars-resnet50": ("resnet50", (3, 224, 224), 196, 8, "sgd", CORES),
    "imagenet-resnet50": ("resnet50", (3, 224, 224), 1000, 8, "sgd", CORES),
    "imagenet-deits": ("deit_small", (3, 224, 224), 1000, 8, "adamw", CORES),
}
MODEL = {"width": 300, "fc_width": 100, "ignore": []}


def train_flops(model, shape, classes):
    """FLOPs of one forward + backward pass per image (FlopCounterMode, batch of 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    x, y = torch.randn(2, *shape), torch.randint(classes, (2,))
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / 2


def steps():
    rows = []
    for preset, (arch, shape, classes, batch, optimizer, threads) in PRESETS.items():
        torch.set_num_threads(threads)
        cfg = {**MODEL, "arch": arch}
        model = models.init_model(cfg, shape, classes, seed=0)
        flops = train_flops(model, shape, classes)
        recipe = {"epochs": 1, "batch_size": batch, "lr": 0.01, "momentum": 0.9,
                  "weight_decay": 1e-4, "optimizer": optimizer}
        mask = {n: torch.ones_like(p, dtype=torch.bool) for n, p in model.named_parameters()
                if n in models.prunable_names(model, cfg)}
        feed = TensorFeed(torch.randn(batch, *shape), torch.randint(classes, (batch,)))
        train.train(model, mask, feed, recipe, seed=0, log=lambda _: None)  # warm-up
        n_steps = 3 if batch < 100 else 20
        feed = TensorFeed(torch.randn(batch * n_steps, *shape),
                          torch.randint(classes, (batch * n_steps,)))
        start, cpu = time.perf_counter(), time.process_time()
        train.train(model, mask, feed, recipe, seed=0, log=lambda _: None)
        per_step = (time.perf_counter() - start) / n_steps
        cpu_per_step = (time.process_time() - cpu) / n_steps
        rows.append({"preset": preset, "arch": arch, "params": sum(
            p.numel() for p in model.parameters()), "train_gflops_per_image": flops / 1e9,
            "batch": batch, "threads": torch.get_num_threads(), "wall_s_per_step": per_step,
            "images_per_s": batch / per_step, "cpu_s_per_step": cpu_per_step,
            "images_per_cpu_s": batch / cpu_per_step})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _jpegs(root, classes, per_class, size=(500, 375), split="val"):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = Path(root) / split / f"n{c:08d}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            # smooth colour field + noise: JPEG sizes like photographs' (~100 KB at 500x375)
            base = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
            img = np.asarray(Image.fromarray(base).resize(size, Image.BILINEAR), np.float32)
            img += rng.normal(0, 12, img.shape)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
                folder / f"{i}.JPEG", quality=90)


def loader():
    from PIL import Image
    from torchvision.datasets import ImageFolder

    from dilt import datasets, disk_datasets

    torch.set_num_threads(1)  # as in a DataLoader worker
    with tempfile.TemporaryDirectory() as tmp:
        _jpegs(tmp, 4, 50, split="train")
        tf = disk_datasets.transform(datasets.info("imagenet"), True, 224)
        ds = ImageFolder(f"{tmp}/train", transform=tf)
        ds[0]
        start = time.process_time()
        for i in range(len(ds)):
            ds[i]
        rate = len(ds) / (time.process_time() - start)
        kb = np.mean([os.path.getsize(p) for p, _ in ds.samples]) / 1024
        print(json.dumps({"transform": f"imagenet/cars train (JPEG 500x375, {kb:.0f} KB)",
                          "images_per_second_per_worker": rate}), flush=True)

    tf = disk_datasets.transform(datasets.info("cifar10"), True, 32)
    imgs = [Image.fromarray(np.random.default_rng(i).integers(0, 256, (32, 32, 3), np.uint8))
            for i in range(2000)]
    start = time.process_time()
    for img in imgs:
        tf(img)
    print(json.dumps({"transform": "cifar10 train (32x32 crop + flip)",
                      "images_per_second_per_worker": len(imgs) / (time.process_time() - start)}))


def probe(n):
    from torchvision.datasets import ImageFolder

    from dilt import datasets, disk_datasets
    from dilt.batches import LoaderFeed
    from dilt.representations import layer_outputs

    torch.set_num_threads(os.cpu_count())
    with tempfile.TemporaryDirectory() as tmp:
        _jpegs(tmp, n, 1)
        tf = disk_datasets.transform(datasets.info("imagenet"), False, 224)
        ds = ImageFolder(f"{tmp}/val", transform=tf)
        cfg = {**MODEL, "arch": "resnet50"}
        model = models.init_model(cfg, (3, 224, 224), 1000, seed=0)
        feed = LoaderFeed(ds, torch.as_tensor(ds.targets), "cpu", workers=0)
        layers = models.representation_layers(model, cfg)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        reps = layer_outputs(model, layers, feed, max_features=4096)
        extract = time.perf_counter() - start
        dists = {k: torch.cdist(r, r).numpy() for k, r in reps.items()}
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "probe_images": n, "layers": len(layers),
            "widths": sorted({r.shape[1] for r in reps.values()}),
            "representations_mib": sum(r.numel() * 4 for r in reps.values()) / 2**20,
            "distance_matrices_mib": sum(d.nbytes for d in dists.values()) / 2**20,
            "rss_before_mib": before, "peak_rss_mib": peak, "extract_seconds": extract,
        }))


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "steps":
        steps()
    elif what == "loader":
        loader()
    else:
        probe(int(sys.argv[2]))
