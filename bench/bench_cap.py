"""CAP one-shot vs global magnitude one-shot on a trained vit_mini, before any fine-tuning.

Per seed: vit_mini (width --width, MLP --fc-width) trained dense on scikit-learn's digits
(split seed 0, 25 % test) with AdamW (lr 3e-3, weight decay 0.05, 1 warm-up epoch, batch 64,
--epochs epochs), then pruned once to each density in --densities by
  magnitude     global |w| (dilt.pruning.magnitude_prune), survivors unchanged;
  cap           dilt.cap.one_shot (block size, gradients, damp from the flags), one Fisher
                from --num-grads training examples for all densities;
  cap_mask      CAP's mask with the dense weights (no OBS update);
  cap_b1        CAP with block size 1: the diagonal-Fisher score, no update.
and tested on the held-out digits. With --gradual, also both gradually from the trained
model through dilt.cap.schedule(1, densities, --steps), with --epochs-between epochs of
fine-tuning (AdamW lr 1e-3, cosine per step, the same batches) after each step: gradual CAP
(dilt.cap.gradual) and gradual global magnitude, tested at each density after its
fine-tuning.
Prints one row per seed, method and density, then the mean accuracy per method and CAP's
gain over magnitude per seed.

    .venv/bin/python bench/bench_cap.py [--seeds 0 1 2] [--width 32] [--block-size 32]
"""

import json
import time

import torch
from common import parser

from dilt import batches, cap, datasets, models, pruning, seeding, train


def digits():
    ds = datasets.load_digits({"test_fraction": 0.25, "split_seed": 0})
    return (batches.TensorFeed(torch.from_numpy(ds.train.x), torch.from_numpy(ds.train.y)),
            batches.TensorFeed(torch.from_numpy(ds.test.x), torch.from_numpy(ds.test.y)))


@torch.no_grad()
def test_loss(model, feed):
    model.eval()
    return float(sum(torch.nn.functional.cross_entropy(model(x), y, reduction="sum")
                     for x, y in feed.batches(feed.eval_batch)) / len(feed))


def run_seed(seed, args, train_feed, test_feed, log):
    arch = {"arch": "vit_mini", "width": args.width, "fc_width": args.fc_width}
    model = models.init_model(arch, (1, 8, 8), 10, seed)
    fit = {"epochs": args.epochs, "batch_size": 64, "lr": 3e-3, "momentum": 0.9,
           "weight_decay": 0.05, "optimizer": "adamw", "warmup_epochs": 1}
    train.train(model, None, train_feed, fit, seed, log=lambda s: None)
    dense = {k: v.clone() for k, v in model.state_dict().items()}
    names = models.prunable_names(model, arch)
    full = {n: torch.ones_like(dense[n], dtype=torch.bool) for n in names}
    total = sum(m.numel() for m in full.values())

    def score(method, density, state):
        model.load_state_dict(state)
        row = {"seed": seed, "method": method, "density": density,
               "accuracy": train.evaluate(model, test_feed), "loss": test_loss(model, test_feed)}
        log(row)
        return row

    def masked(mask):
        return {**dense, **{n: dense[n] * mask[n] for n in names}}

    rows = [score("dense", 1.0, dense)]
    for d in args.densities:
        rows.append(score("magnitude", d, masked(
            pruning.magnitude_prune({n: dense[n] for n in names}, full, 1 - d))))
    sample = cap.calibration_sample(train_feed, args.num_grads, seed)
    settings = cap.Settings(block_size=args.block_size, num_grads=args.num_grads, damp=args.damp)
    model.load_state_dict(dense)
    start = time.perf_counter()
    pruned = cap.one_shot(model, full, sample, args.densities, settings)
    log(f"seed {seed}: CAP one-shot (all densities) {time.perf_counter() - start:.1f} s")
    for d, (mask, state) in zip(args.densities, pruned, strict=True):
        rows.append(score("cap", d, state))
        rows.append(score("cap_mask", d, masked(mask)))
    model.load_state_dict(dense)
    diagonal = cap.one_shot(model, full, sample, args.densities,
                            cap.Settings(block_size=1, num_grads=args.num_grads, damp=args.damp))
    for d, (_, state) in zip(args.densities, diagonal, strict=True):
        rows.append(score("cap_b1", d, state))
    if args.gradual:
        tune = {**fit, "lr": 1e-3, "warmup_epochs": 0}
        settings = cap.Settings(block_size=args.block_size, num_grads=args.num_grads,
                                damp=args.damp, steps=args.steps, epochs=args.epochs_between)
        model.load_state_dict(dense)
        for d, _, state in cap.gradual(model, full, train_feed, args.densities, settings, tune,
                                       seed, log=lambda s: None):
            rows.append(score("cap_grad", d, state))
        model.load_state_dict(dense)
        mask, targets = full, set(args.densities)
        for i, d in enumerate(cap.schedule(1.0, args.densities, args.steps)):
            weights = dict(model.named_parameters())
            survivors = sum(int(m.sum()) for m in mask.values())
            mask = pruning.magnitude_prune(weights, mask, 1 - round(d * total) / survivors)
            train.train(model, mask, train_feed, {**tune, "epochs": args.epochs_between},
                        seeding.job_seed(seed, "cap", i), log=lambda s: None)
            if d in targets:
                rows.append(score("mag_grad", d, model.state_dict()))
    return rows


def main():
    p = parser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--fc-width", type=int, default=64)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--densities", type=float, nargs="+", default=[0.5, 0.3, 0.2])
    p.add_argument("--block-size", type=int, default=cap.Settings.block_size)
    p.add_argument("--num-grads", type=int, default=cap.Settings.num_grads)
    p.add_argument("--damp", type=float, default=cap.Settings.damp)
    p.add_argument("--gradual", action="store_true")
    p.add_argument("--steps", type=int, default=cap.Settings.steps)
    p.add_argument("--epochs-between", type=int, default=cap.Settings.epochs)
    args = p.parse_args()
    torch.set_num_threads(1)
    train_feed, test_feed = digits()
    rows = []
    for seed in args.seeds:
        rows += run_seed(seed, args, train_feed, test_feed, lambda r: print(r, flush=True))
    print(f"\nvit_mini width {args.width}, fc {args.fc_width}, {args.epochs} epochs; CAP block "
          f"{args.block_size}, {args.num_grads} gradients, damp {args.damp}; seeds {args.seeds}")
    methods = ["dense", "magnitude", "cap", "cap_mask", "cap_b1"]
    methods += ["mag_grad", "cap_grad"] if args.gradual else []
    acc = {(r["method"], r["density"], r["seed"]): r["accuracy"] for r in rows}
    print("density  " + "  ".join(f"{m:>9}" for m in methods) + "   cap - magnitude per seed")
    for d in args.densities:
        mean = {m: sum(acc[m, 1.0 if m == "dense" else d, s] for s in args.seeds)
                / len(args.seeds) for m in methods}
        gain = [acc["cap", d, s] - acc["magnitude", d, s] for s in args.seeds]
        print(f"{d:7.2f}  " + "  ".join(f"{mean[m]:9.3f}" for m in methods) + "   "
              + " ".join(f"{g:+.3f}" for g in gain))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
