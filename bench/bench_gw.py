"""GW engine (dilt.gw) against the naive POT loop on a ResNet-50 K=2 joint matrix.

Representations: two torchvision ResNet-50s with random weights (seeds 0 and 1: the two
chains), each layer with weights (53 convolutions and the fc head, 54 nodes a chain, 108
in all: 5,778 pairs) on the same --probe images: scikit-learn's 8x8 digits, upsampled to
32 x 32 and repeated over 3 channels, in a seeded order. Outputs wider than
--max-features are count-sketched as the distances rule does (dilt.representations), and
every layer gets one distance matrix (dilt.gw.distance_matrix). Nothing is cached.

On a seeded sample of --pairs pairs, one thread, interleaved per pair:
  naive   both distance matrices recomputed from the representations, then POT's
          gromov_wasserstein2 (square loss, uniform weights, default start);
  solvers each dilt.gw solver on the precomputed matrices (CPU time per pair).
Best known per pair: the minimum of the naive value, POT from the identity coupling, POT
from --restarts seeded random permutations (dilt.gw.reference_values) and every solver's
value. Targets for the default solver: >= 10x the naive loop's speed, and within 1 % of
the best known on >= 99 % of the sample.

    .venv/bin/python bench/bench_gw.py [--probe 500] [--pairs 40] [--restarts 2] [--json F]
"""

import os
import time
from itertools import combinations

import numpy as np
import ot
import torch
from common import emit, parser, row
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits
from torch import nn
from torchvision.models import resnet50

from dilt.gw import SOLVERS, _solve, distance_matrix, gw_pairs, gw_value, reference_values
from dilt.representations import layer_outputs

DEFAULT = gw_pairs.__defaults__[1]


class Digits:
    """The first n of scikit-learn's digits in a seeded order, as 3 x size x size images."""

    def __init__(self, n, size=32, seed=0):
        x = load_digits().images[np.random.default_rng(seed).permutation(1797)[:n]] / 16.0
        x = torch.tensor(x, dtype=torch.float32)[:, None]
        x = nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)
        self.x = ((x - x.mean()) / x.std()).repeat(1, 3, 1, 1)

    def batches(self, batch_size):
        for start in range(0, len(self.x), batch_size):
            yield self.x[start : start + batch_size], None


def resnet50_representations(n, max_features):
    """{f"p{k}:{layer}": (n, <= max_features) float32} for chains k = 0, 1."""
    data, reps = Digits(n), {}
    for k in range(2):
        torch.manual_seed(k)
        model = resnet50(weights=None)
        layers = [m for m, mod in model.named_modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
        out = layer_outputs(model, layers, data, max_features=max_features, batch_size=100)
        reps.update({f"p{k}:{layer}": r.numpy() for layer, r in out.items()})
    return reps


def main():
    p = parser(__doc__)
    p.add_argument("--probe", type=int, default=500, help="probe images n")
    p.add_argument("--pairs", type=int, default=40, help="seeded sample of pairs")
    p.add_argument("--restarts", type=int, default=2, help="random POT restarts a pair")
    p.add_argument("--max-features", type=int, default=4096)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())

    t = time.perf_counter()
    reps = resnet50_representations(args.probe, args.max_features)
    mats = {k: distance_matrix(r) for k, r in reps.items()}
    pairs = list(combinations(mats, 2))
    rng = np.random.default_rng(0)
    sample = [pairs[i] for i in np.sort(rng.choice(len(pairs), args.pairs, replace=False))]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; ResNet-50 K=2: "
          f"{len(mats)} layers, n={args.probe}, {len(pairs)} pairs, sample of {len(sample)} "
          f"({time.perf_counter() - t:.0f} s)", flush=True)

    naive_s, naive = 0.0, []
    cpu = {s: 0.0 for s in SOLVERS}
    values = {s: [] for s in SOLVERS}
    refs = []
    with threadpool_limits(1):
        for a, b in sample:
            c = time.process_time()
            C1, C2 = distance_matrix(reps[a]), distance_matrix(reps[b])
            _, log = ot.gromov.gromov_wasserstein2(C1, C2, loss_fun="square_loss", log=True)
            naive_s += time.process_time() - c
            naive.append(gw_value(C1, C2, log["T"]))
            for s in SOLVERS:
                c = time.process_time()
                values[s].append(_solve(mats[a], mats[b], s)[0])
                cpu[s] += time.process_time() - c
            refs.append(reference_values(mats[a], mats[b], args.restarts, seed=len(refs),
                                         default_start=False))
    best = np.minimum.reduce([np.array(naive)] + [np.array(v) for v in values.values()]
                             + [np.array([r[k] for r in refs]) for k in refs[0]])
    naive = np.array(naive)
    print(f"naive POT loop: {1e3 * naive_s / len(sample):.0f} ms CPU a pair; all pairs "
          f"~{naive_s / len(sample) * len(pairs) / 3600:.2f} h on one core")

    print(f"{'solver':<12} {'ms/pair':>8} {'speed':>7} {'within 1%':>10} {'median':>7} "
          f"{'max':>6}   (value / best known)")
    lines = [("naive POT", naive_s, naive)] + [(s, cpu[s], np.array(values[s])) for s in SOLVERS]
    lines += [(k, None, np.array([r[k] for r in refs])) for k in refs[0]]
    rows = []
    for name, seconds, v in lines:
        ratio = v / best
        share = 100 * np.mean(v <= 1.01 * best)
        speed = naive_s / seconds if seconds else None
        print(f"{name:<12} {1e3 * seconds / len(sample) if seconds else float('nan'):8.0f} "
              f"{speed or float('nan'):6.1f}x {share:9.1f}% {np.median(ratio):7.3f} "
              f"{ratio.max():6.2f}")
        if name in SOLVERS:
            tag = f"GW {name}{' (default)' if name == DEFAULT else ''}"
            ctx = (f"ResNet-50 K=2, n={args.probe}, {len(sample)} of {len(pairs)} pairs, "
                   f"CPU time, 1 thread")
            rows.append(row(f"{tag}: speed vs naive POT loop", float(speed), "x", ">= 10",
                            bool(speed >= 10), ctx))
            rows.append(row(f"{tag}: within 1% of best known", float(share), "% pairs", ">= 99",
                            bool(share >= 99), f"{int(round(share * len(sample) / 100))}/"
                            f"{len(sample)} sampled pairs, {args.restarts} random restarts"))
    emit(rows, args.json)


if __name__ == "__main__":
    main()
