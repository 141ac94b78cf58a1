"""GW engine (dilt.gw) against the naive POT loop on 42 layers x n=500 probe inputs.

Representations (--reps):
  cnn        two residual CNNs with ResNet-18's layout (stem, 4 stages x 2 blocks, 3
             downsample convs: 20 convolutions + the head = 21 layers each) from one
             initialisation, trained on digits 0-4 and 5-9 (scikit-learn's 8x8 digits) like
             two DiLT chains; each layer's flattened output on 500 held-out images.
  synthetic  two 21-layer random residual MLPs on clustered inputs, the second one's weights
             drifting from the first's with depth (layers change gradually).

naive:  per pair, both distance matrices recomputed, then POT's gromov_wasserstein2 (square
        loss, uniform weights, default start and tolerances), one BLAS thread (the same
        arithmetic as an engine worker; see --reproducibility for why that matters).
engine: each distance matrix once, then gw_pairs(solver=pot|swap, n_jobs=--jobs).
Both are timed on the same random subset of pairs (--pairs) and scaled to all pairs; the
engine's distance matrices are counted in full. Objectives are evaluated exactly (float64)
on the same float32 matrices.

    .venv/bin/python bench/bench_gw.py [--reps cnn|synthetic] [--pairs 40|all] [--jobs 2]
"""

import argparse
import os
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import ot
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))
from dilt.gw import distance_matrix, gw_pairs, gw_value  # noqa: E402


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet18_like(width=8, classes=10):
    widths = [width, 2 * width, 4 * width, 8 * width]
    layers = [nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    cin = width
    for stage, cout in enumerate(widths):
        for block in range(2):
            layers.append(Block(cin, cout, 2 if stage and not block else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def cnn_representations(n_probe, epochs, seed=0):
    """{f"p{k}:{layer}": (n_probe, features) float32} for two chains, in network order."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(y)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    probe, train = order[:n_probe], order[n_probe:]
    torch.manual_seed(seed)
    init = resnet18_like().state_dict()
    reps = {}
    for k, classes in enumerate([range(5), range(5, 10)]):
        model = resnet18_like()
        model.load_state_dict(init)
        idx = train[torch.isin(y[train], torch.tensor(list(classes)))]
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(seed + k)
        model.train()
        for _ in range(epochs):
            for batch in idx[torch.randperm(len(idx), generator=gen)].split(64):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                opt.step()
        names = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        modules = dict(model.named_modules())
        outputs = {}
        hooks = [
            modules[n].register_forward_hook(
                lambda _m, _i, out, n=n, store=outputs: store.__setitem__(n, out.flatten(1).numpy())
            )
            for n in names
        ]
        model.eval()
        with torch.no_grad():
            acc = (model(x[probe]).argmax(1) == y[probe])[
                torch.isin(y[probe], idx.new_tensor(list(classes)))
            ]
        for h in hooks:
            h.remove()
        print(
            f"  chain p{k}: classes {classes.start}-{classes.stop - 1}, "
            f"probe accuracy on them {acc.float().mean():.3f}"
        )
        reps.update({f"p{k}:{n}": outputs[n] for n in names})
    return reps


def synthetic_representations(n_probe, seed=0, drift=0.35):
    """{f"p{k}:layer{l}": (n_probe, 4 * width)} from two residual MLPs (see module doc)."""
    rng = np.random.default_rng(seed)
    widths = [64] * 5 + [128] * 5 + [256] * 5 + [512] * 6
    x = rng.normal(size=(10, 32))[rng.integers(0, 10, n_probe)] * 2
    x += rng.normal(size=x.shape)
    base = [rng.normal(size=s) for s in zip([32] + widths[:-1], widths, strict=True)]
    reps = {}
    for k in range(2):
        h = x
        for layer, w in enumerate(base):
            w = (w + k * drift * (layer + 1) / len(base) * rng.normal(size=w.shape)) / np.sqrt(
                len(w)
            )
            z = np.maximum(h @ w, 0)
            h = h + 0.5 * z if z.shape == h.shape else z
            h = h / np.linalg.norm(h, axis=1).mean()
            noisy = np.repeat(h, 4, axis=1) + 0.05 * rng.normal(size=(n_probe, 4 * h.shape[1]))
            reps[f"p{k}:layer{layer}"] = noisy.astype(np.float32)
    return reps


def naive(reps, pairs):
    """The naive loop over ``pairs``: (values, distance seconds, solve seconds, CPU s)."""
    values, dist, solve = [], 0.0, 0.0
    cpu = time.process_time()
    for a, b in pairs:
        t0 = time.perf_counter()
        C1, C2 = distance_matrix(reps[a]), distance_matrix(reps[b])
        t1 = time.perf_counter()
        _, log = ot.gromov.gromov_wasserstein2(C1, C2, loss_fun="square_loss", log=True)
        t2 = time.perf_counter()
        dist, solve = dist + t1 - t0, solve + t2 - t1
        values.append(gw_value(C1, C2, log["T"]))
    return np.array(values), dist, solve, time.process_time() - cpu


def summary(v):
    return (
        f"mean {np.mean(v):.5f} median {np.median(v):.5f} min {np.min(v):.5f} max {np.max(v):.5f}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", choices=["cnn", "synthetic"], default="cnn")
    ap.add_argument("--pairs", default="40", help="pairs timed and compared, or 'all'")
    ap.add_argument("--jobs", type=int, default=2, help="n_jobs of the engine")
    ap.add_argument("--probe", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument(
        "--reproducibility",
        action="store_true",
        help="also rerun POT on the subset with default BLAS threads and in float64",
    )
    args = ap.parse_args()

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; representations:")
    t = time.perf_counter()
    if args.reps == "cnn":
        reps = cnn_representations(args.probe, args.epochs)
    else:
        reps = synthetic_representations(args.probe)
    labels = list(reps)
    dims = [r.shape[1] for r in reps.values()]
    pairs = list(combinations(labels, 2))
    rng = np.random.default_rng(0)
    subset = (
        pairs
        if args.pairs == "all"
        else [
            pairs[i]
            for i in np.sort(
                rng.choice(len(pairs), min(int(args.pairs), len(pairs)), replace=False)
            )
        ]
    )
    scale = len(pairs) / len(subset)
    print(
        f"  {args.reps}: {len(labels)} layers, n={args.probe}, features {min(dims)}..{max(dims)}, "
        f"{len(pairs)} pairs ({time.perf_counter() - t:.0f} s); timing {len(subset)} pairs"
        + ("" if scale == 1 else f", scaled x{scale:.2f} to all pairs")
    )

    with threadpool_limits(1):
        ref, n_dist, n_solve, n_cpu = naive(reps, subset)
    n_wall = (n_dist + n_solve) * scale
    print(
        f"naive POT loop: {1e3 * (n_dist + n_solve) / len(subset):.1f} ms a pair (distances "
        f"{1e3 * n_dist / len(subset):.1f} + gromov_wasserstein2 "
        f"{1e3 * n_solve / len(subset):.1f}); all pairs {n_wall:.1f} s wall, "
        f"{n_cpu * scale:.1f} s CPU"
    )
    print(f"  objective {summary(ref)}")

    t, c = time.perf_counter(), time.process_time()
    mats = {k: distance_matrix(r) for k, r in reps.items()}
    d_wall, d_cpu = time.perf_counter() - t, time.process_time() - c
    print(f"engine distance matrices, once: {d_wall:.1f} s wall, {d_cpu:.1f} s CPU")
    for solver in ("pot", "swap"):
        t, c = time.perf_counter(), time.process_time()
        values = gw_pairs(mats, subset, n_jobs=args.jobs, solver=solver)
        wall = d_wall + (time.perf_counter() - t) * scale
        cpu = d_cpu + (time.process_time() - c) * scale
        ok = values <= ref * (1 + 1e-9)
        ratio = values / ref
        print(
            f"engine solver={solver}, n_jobs={args.jobs}: all pairs {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU; speed-up {n_wall / wall:.1f}x wall, {n_cpu * scale / cpu:.1f}x CPU"
        )
        print(f"  objective {summary(values)}")
        print(
            f"  engine <= naive (1e-9 relative) on {ok.mean():.1%} of pairs ({ok.sum()}/{len(ok)});"
            f" engine/naive median {np.median(ratio):.3f}, min {ratio.min():.3f}, "
            f"max {ratio.max():.3f}"
        )

    if args.reproducibility:
        for name, threads, dtype in [
            ("default BLAS threads", None, np.float32),
            ("float64", 1, np.float64),
        ]:
            with threadpool_limits(threads):
                again = np.array(
                    [
                        gw_value(
                            mats[a],
                            mats[b],
                            ot.gromov.gromov_wasserstein(
                                mats[a].astype(dtype), mats[b].astype(dtype)
                            ),
                        )
                        for a, b in subset
                    ]
                )
            same = again <= ref * (1 + 1e-9)
            print(
                f"POT again, {name}: <= the naive run on {same.mean():.1%} of pairs, "
                f"ratio median {np.median(again / ref):.3f}, min {(again / ref).min():.3f}, "
                f"max {(again / ref).max():.3f}"
            )


if __name__ == "__main__":
    main()
