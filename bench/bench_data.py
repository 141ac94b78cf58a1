"""Data throughput per CPU core: today's ImageFolder + PIL pipeline against the prepared format.

Synthetic ImageNet-like JPEGs (500x375, quality 90, a smooth colour field plus noise: about
70 KB, like photographs of that size) are written to a temporary directory, converted once by
dilt.prepared (stored as --resolution squares) and read back as training batches of
--size x --size normalised float images (random-resized crop + flip) by:

  A. ImageFolder + PIL decode + torchvision v2 transforms (disk_datasets.transform), then
     collation:
     what one DataLoader worker does today;
  B. torchvision.io.decode_jpeg on the raw bytes + the same v2 transforms on uint8 tensors;
  C. the prepared format, CPU side of a GPU job: memory-mapped uint8 batch gather, one more
     copy of it (as pin_memory makes) and drawing the crop and flip parameters (the crops,
     flips and normalisation then run on the GPU, which is not measured here);
  D. the prepared format read and augmented entirely on the CPU (PreparedFeed on device cpu).

Everything runs in one process on one thread; each measure is images per CPU-second
(process time), the median of --repeats interleaved rounds (A, B, C, D, A, B, ...), so load
from other jobs shifts all four alike. The prepared shards are in the page cache (just
written), as they are for every epoch after a job's first on a machine with enough memory.

    .venv/bin/python bench/bench_data.py [--images 256] [--size 224] [--resolution 256]
"""

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import emit, parser, row

TARGET = 10.0


def write_jpegs(root, n, classes=8, size=(500, 375), seed=0):
    """n JPEGs in `classes` class folders: a smooth random colour field plus pixel noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = Path(root) / f"n{i % classes:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        field = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
        pixels = np.asarray(Image.fromarray(field).resize(size, Image.Resampling.BILINEAR),
                            np.float32) + rng.normal(0, 12, (size[1], size[0], 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"{i:05d}.JPEG", quality=90)


def cpu_rate(fn, images):
    """Images per CPU-second of fn(), which handles `images` images."""
    start = time.process_time()
    fn()
    return images / (time.process_time() - start)


def measure(root, args):
    import torch
    from torchvision.datasets import ImageFolder
    from torchvision.io import decode_jpeg

    from dilt import augment, datasets, disk_datasets, prepared

    tf = disk_datasets.transform(datasets.info("imagenet"), True, args.size)
    folder = ImageFolder(str(root / "jpeg"), transform=tf)
    n = len(folder)
    start = time.process_time()
    prepared.prepare("imagenet", ImageFolder(str(root / "jpeg")), root / "prepared",
                     args.resolution, shard_size=128, log=lambda _: None)
    prepare_rate = n / (time.process_time() - start)
    split = prepared.PreparedSplit(root / "prepared")
    feed = prepared.PreparedFeed(split, train=True, size=args.size)
    raw = [torch.frombuffer(bytearray(Path(p).read_bytes()), dtype=torch.uint8)
           for p, _ in folder.samples]
    tensor_tf = type(tf)(tf.transforms[1:])  # the same v2 steps after ToImage
    gen = torch.Generator().manual_seed(0)
    passes = args.passes

    def folder_pipeline():
        for b in range(0, n, args.batch):
            torch.stack([folder[i][0] for i in range(b, min(b + args.batch, n))])

    def decode_jpeg_pipeline():
        for b in range(0, n, args.batch):
            torch.stack([tensor_tf(decode_jpeg(data)) for data in raw[b:b + args.batch]])

    pinned = torch.empty(args.batch, args.resolution, args.resolution, 3, dtype=torch.uint8)

    def prepared_gather():
        for _ in range(passes):
            order = torch.randperm(n, generator=gen)
            for b in range(0, n, args.batch):
                index = order[b:b + args.batch]
                images = torch.from_numpy(split.gather(index.tolist()))
                pinned[:len(images)].copy_(images)  # stands in for pin_memory's copy
                sizes = split.sizes[index]
                augment.to_stored(augment.rrc_boxes(sizes, gen), sizes, split.resolution)
                augment.flips(len(index), gen)

    def prepared_cpu():
        for _ in range(passes):
            for _batch in feed.batches(args.batch, gen):
                pass

    pipelines = {"A": (folder_pipeline, n), "B": (decode_jpeg_pipeline, n),
                 "C": (prepared_gather, n * passes), "D": (prepared_cpu, n * passes)}
    for fn, _ in pipelines.values():  # warm-up: imports, caches, first-touch allocations
        fn()
    rates = {k: [] for k in pipelines}
    for _ in range(args.repeats):
        for k, (fn, images) in pipelines.items():
            rates[k].append(cpu_rate(fn, images))
    kb = np.mean([len(data) for data in raw]) / 1024
    return {k: statistics.median(v) for k, v in rates.items()}, rates, prepare_rate, kb


def main():
    p = parser(__doc__)
    p.add_argument("--images", type=int, default=256, help="JPEGs generated (default 256)")
    p.add_argument("--size", type=int, default=224, help="output side (default 224)")
    p.add_argument("--resolution", type=int, default=256,
                   help="prepared side R (default 256)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--passes", type=int, default=4,
                   help="epochs over the images per round for the prepared paths")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="dilt-bench-data-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_jpegs(root / "jpeg", args.images)
        generated = time.perf_counter() - t0
        median, rates, prepare_rate, kb = measure(root, args)
    base = median["A"]
    spread = {k: f"{min(v):.0f}-{max(v):.0f}" for k, v in rates.items()}
    shape = (f"{args.images} JPEGs 500x375 q90 ({kb:.0f} KB), prepared at {args.resolution}px, "
             f"output {args.size}px, batch {args.batch}, 1 thread, median of {args.repeats} "
             f"interleaved rounds")
    rows = [
        row("A ImageFolder + PIL + v2 transforms (today)", base, "img/CPU-s", context=(
            f"{shape}; rounds {spread['A']}")),
        row("B decode_jpeg on raw bytes + v2 transforms", median["B"], "img/CPU-s", context=(
            f"{median['B'] / base:.1f}x A; rounds {spread['B']}")),
        row("C prepared, CPU side of a GPU job", median["C"],
            "img/CPU-s", context=f"rounds {spread['C']}; gather + copy + crop parameters"),
        row("D prepared, read + augment on the CPU", median["D"], "img/CPU-s", context=(
            f"{median['D'] / base:.1f}x A; rounds {spread['D']}")),
        row("data per core, prepared GPU job (C) vs today (A)", median["C"] / base, "x",
            f">= {TARGET:g}", median["C"] / base >= TARGET,
            "the GPU-side augmentation is not measured here"),
        row("data per core, prepared CPU-only (D) vs today (A)", median["D"] / base, "x",
            f">= {TARGET:g}", median["D"] / base >= TARGET,
            "a CPU-only job: the model, not the data, limits it"),
        row("prepare once (decode + resize + write)", prepare_rate, "img/CPU-s", context=(
            f"ImageNet's 1.28 M training images: {1.281e6 / prepare_rate / 3600:.1f} "
            f"core-hours; {args.resolution**2 * 3 / 1024:.0f} KB per image stored; "
            f"JPEG generation took {generated:.1f} s")),
    ]
    emit(rows, args.json)


if __name__ == "__main__":
    main()
