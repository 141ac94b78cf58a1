"""Peak RSS of probe-set representation extraction for ResNet-50 at 224px.

torchvision's resnet50 (random weights) runs over n probe images fed batch by batch, as the
distances rule's disk-dataset feed delivers them; dilt.representations.layer_outputs keeps
each representation layer's output (the stem convolution and the 16 bottleneck blocks)
reduced to at most --max-features columns, then every layer's n x n distance matrix is
computed as the distances rule does. Each n runs in a fresh process; the peak is that
process's maximum resident set size (getrusage), imports and weights included.

    .venv/bin/python bench/bench_memory.py [--n 256 1000] [--batch 64] [--max-features 4096]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

from common import emit, parser, row

GIB = 2**30


class SyntheticImages:
    """n seeded random 3 x size x size images, made one batch at a time (no dataset held)."""

    def __init__(self, n, size=224, seed=0):
        self.n, self.size, self.seed = n, size, seed

    def __len__(self):
        return self.n

    def batches(self, batch_size, generator=None):
        import torch

        gen = torch.Generator().manual_seed(self.seed)
        for start in range(0, self.n, batch_size):
            k = min(batch_size, self.n - start)
            yield torch.randn(k, 3, self.size, self.size, generator=gen), torch.zeros(k)


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def worker(n, batch, max_features):
    import torch
    from torchvision.models import resnet50

    from dilt.gw import distance_matrix
    from dilt.representations import layer_outputs

    torch.manual_seed(0)
    model = resnet50(weights=None)
    layers = ["conv1"] + [f"layer{i}.{j}" for i in range(1, 5)
                          for j in range(len(getattr(model, f"layer{i}")))]
    before = peak_rss()
    t0 = time.perf_counter()
    reps = layer_outputs(model, layers, SyntheticImages(n), max_features=max_features,
                         batch_size=batch)
    dists = {name: distance_matrix(rep) for name, rep in reps.items()}
    print(json.dumps({
        "n": n, "layers": len(reps), "seconds": time.perf_counter() - t0,
        "widths": sorted({r.shape[1] for r in reps.values()}),
        "reps_bytes": sum(r.numel() * r.element_size() for r in reps.values()),
        "dist_bytes": sum(d.nbytes for d in dists.values()),
        "rss_before": before, "peak_rss": peak_rss(),
    }))


def main():
    p = parser(__doc__)
    p.add_argument("--n", type=int, nargs="+", default=[256, 1000])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--max-features", type=int, default=4096)
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.batch, args.max_features)
    rows = []
    for n in args.n:
        out = subprocess.run([sys.executable, __file__, "--worker", str(n), "--batch",
                              str(args.batch), "--max-features", str(args.max_features)],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        peak = r["peak_rss"] / GIB
        ok = peak <= 4 if n == 1000 else None
        rows.append(row(f"peak RSS, ResNet-50 extraction, n={n} at 224px", peak, "GiB",
                        "<= 4" if n == 1000 else None, ok,
                        f"{r['layers']} layers, widths {r['widths']}, batch {args.batch}, "
                        f"reps {r['reps_bytes'] / 2**20:.0f} MiB, distances "
                        f"{r['dist_bytes'] / 2**20:.0f} MiB, after imports and weights "
                        f"{r['rss_before'] / GIB:.2f} GiB, {r['seconds']:.0f} s"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
