"""SAViT against structured controls at equal FLOPs, before fine-tuning.

Per seed, a vit_mini (width 32, MLP 64, 4 blocks of 4 heads) is trained on digits (AdamW,
40 epochs, seeded); then at each FLOPs reduction target every method removes whole heads,
FFN neurons and embedding channels from the trained weights until the target is met
(dilt.vit_structure FLOPs; each stops at the first removal that meets it), and the masked
network is tested as is (no fine-tuning):
  savit            dilt.savit, 512 calibration examples of the training split
  savit_diagonal   the same ranking without the cross terms (ablation of the interactions)
  l1_uniform       the same share of every component's units in every block, lowest L1
                   norm of the unit's weights first (Li et al. 2017 style)
  random_uniform   the same shares, random units (mean of --draws draws)
  random_counts    SAViT's per-block counts of each kind, random units (mean of --draws)
Differences are paired by seed (savit minus control).

    .venv/bin/python bench/check_savit.py [--seeds 0 1 2] [--targets 0.3 0.5] [--draws 5]
"""

import os
import statistics
import time
from collections import Counter

from common import emit, parser, row

os.environ.setdefault("OMP_NUM_THREADS", "1")

MODEL = {"arch": "vit_mini", "width": 32, "fc_width": 64, "ignore": []}
TRAIN = {"epochs": 40, "batch_size": 32, "lr": 2e-3, "momentum": 0.9, "weight_decay": 0.05,
         "optimizer": "adamw", "warmup_epochs": 2, "grad_clip": 1.0}
SAVIT = {"examples": 512, "batch_size": 64, "components": ["heads", "neurons", "channels"],
         "units_per_step": 1, "objective": "logits", "directions": 16, "interactions": True}
VARIANTS = {"savit": {}, "savit_loss": {"objective": "loss"},
            "savit_diagonal": {"interactions": False}}
METHODS = [*VARIANTS, "l1_uniform", "random_uniform", "random_counts"]


def test_metrics(model, state, mask, feed):
    """(accuracy, mean cross-entropy) of the trained weights under `mask` on `feed`."""
    import torch

    from dilt import train

    model.load_state_dict(state)
    train.apply_mask(model, mask)
    model.eval()
    with torch.no_grad():
        out = model(feed.x)
        loss = float(torch.nn.functional.cross_entropy(out, feed.y))
    return float((out.argmax(1) == feed.y).float().mean()), loss


def run_seed(seed, targets, draws, data):
    from dilt import models, savit, train
    from dilt import vit_structure as vs
    from dilt.seeding import job_seed

    train_feed, test_feed = data
    model = models.init_model(MODEL, (1, 8, 8), 10, seed)
    start = time.perf_counter()
    train.train(model, None, train_feed, TRAIN, seed, log=lambda s: None)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    dense_acc, _ = test_metrics(model, state, {}, test_feed)
    print(f"seed {seed}: trained in {time.perf_counter() - start:.0f} s, "
          f"test accuracy {dense_acc:.4f}")
    structure = vs.ViTStructure.from_model(model)
    names = models.prunable_names(model, MODEL)
    units = structure.units()
    l1 = savit.l1_scores(model, structure, units)
    out = {}
    for variant, change in VARIANTS.items():
        for target, (mask, _) in zip(targets, savit.savit_masks(
                model, names, train_feed, dict(SAVIT, **change), seed, "flops", targets),
                strict=True):
            out[target, variant] = [(mask, vs.removed_units(structure, mask))]
    for target in targets:
        removed = savit.uniform_removal(structure, units, l1, "flops", target)
        out[target, "l1_uniform"] = [(vs.structured_mask(structure, removed), removed)]
        counts = Counter((u.kind, u.block) for u in out[target, "savit"][0][1])
        for name in ("random_uniform", "random_counts"):
            out[target, name] = []
            for draw in range(draws):
                scores = savit.random_scores(units, job_seed(seed, target, name, draw))
                removed = (savit.uniform_removal(structure, units, scores, "flops", target)
                           if name == "random_uniform"
                           else savit.lowest_in_groups(units, scores, counts))
                out[target, name].append((vs.structured_mask(structure, removed), removed))
    results = {}
    for (target, name), entries in out.items():
        metrics = [test_metrics(model, state, m, test_feed) for m, _ in entries]
        infos = [vs.summary(structure, m, r) for m, r in entries]
        results[target, name] = {
            "acc": statistics.mean(a for a, _ in metrics),
            "loss": statistics.mean(lo for _, lo in metrics),
            "flops_reduction": statistics.mean(i["flops_reduction"] for i in infos),
            "density": statistics.mean(i["density"] for i in infos),
            "removed": infos[0]["removed"]}
    return dense_acc, results


def main():
    p = parser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--targets", type=float, nargs="+", default=[0.3, 0.5])
    p.add_argument("--draws", type=int, default=5)
    args = p.parse_args()

    import torch

    from dilt import datasets
    from dilt.batches import TensorFeed

    torch.set_num_threads(1)
    ds = datasets.load_digits({"test_fraction": 0.25, "split_seed": 0})
    feeds = (TensorFeed(torch.from_numpy(ds.train.x), torch.from_numpy(ds.train.y)),
             TensorFeed(torch.from_numpy(ds.test.x), torch.from_numpy(ds.test.y)))
    per_seed = {s: run_seed(s, args.targets, args.draws, feeds) for s in args.seeds}
    rows = [row("dense accuracy", statistics.mean(d for d, _ in per_seed.values()), "",
                context=" / ".join(f"{d:.3f}" for d, _ in per_seed.values()))]
    for target in args.targets:
        print(f"\nFLOPs reduction target {target:.0%} (test accuracy before fine-tuning; "
              f"seeds {args.seeds})")
        print(f"{'method':16s} {'acc':>6s} {'loss':>6s} {'FLOPs-':>6s} {'density':>7s}  "
              f"per seed acc; removed heads/neurons/channels (first seed)")
        for name in METHODS:
            res = [r[target, name] for _, r in per_seed.values()]
            acc = statistics.mean(r["acc"] for r in res)
            removed = res[0]["removed"]
            print(f"{name:16s} {acc:6.3f} {statistics.mean(r['loss'] for r in res):6.3f} "
                  f"{statistics.mean(r['flops_reduction'] for r in res):6.3f} "
                  f"{statistics.mean(r['density'] for r in res):7.3f}  "
                  + " ".join(f"{r['acc']:.3f}" for r in res)
                  + f"; {removed['head']}/{removed['neuron']}/{removed['channel']}")
            rows.append(row(f"{name} accuracy at {target:.0%} FLOPs reduction", acc, "",
                            context=" / ".join(f"{r['acc']:.3f}" for r in res)))
        for name in METHODS[1:]:
            diffs = [r[target, "savit"]["acc"] - r[target, name]["acc"]
                     for _, r in per_seed.values()]
            rows.append(row(f"savit - {name} at {target:.0%}", statistics.mean(diffs), "",
                            target="> 0 on every seed", ok=all(d > 0 for d in diffs),
                            context=" / ".join(f"{d:+.3f}" for d in diffs)))
    print()
    emit(rows, args.json)


if __name__ == "__main__":
    main()
