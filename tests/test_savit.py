"""SAViT and the ViT structure helpers: whole-unit masks, FLOPs by hand, the interaction term,
the per-head overlap table."""

import numpy as np
import pytest
import torch
from timm.models.vision_transformer import VisionTransformer

from dilt import masks, savit, vit_overlap
from dilt import vit_structure as vs
from dilt.batches import TensorFeed
from dilt.io import DiltError

SETTINGS = {"examples": 24, "batch_size": 8, "components": ["heads", "neurons", "channels"],
            "objective": "logits", "directions": 16, "units_per_step": 1, "interactions": True}


def tiny(depth=1, class_token=False, seed=0, classes=3):
    """dim 8, 2 heads (head dim 4), MLP 16, 2x2 patches of a 1x4x4 image: 4 patch tokens."""
    torch.manual_seed(seed)
    return VisionTransformer(img_size=4, patch_size=2, in_chans=1, num_classes=classes,
                             embed_dim=8,
                             depth=depth, num_heads=2, mlp_ratio=2, class_token=class_token,
                             global_pool="token" if class_token else "avg")


def feed(n=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return TensorFeed(torch.randn(n, 1, 4, 4, generator=gen), torch.randint(0, 3, (n,),
                                                                             generator=gen))


@pytest.fixture(autouse=True)
def one_thread():
    """Run on one thread (as the workflow's jobs do), then restore the thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_flops_of_a_tiny_vit_by_hand():
    s = vs.ViTStructure.from_model(tiny())
    assert (s.tokens, s.head_dim) == (4, 4)
    dense = vs.flops(s)
    # patch embedding: 4 patches x 8 channels x 4 pixels; qkv: 4 tokens x 24 x 8;
    # scores and values: 2 heads x 4 x 4 tokens x 4 dims; proj: 4 x 8 x 8; fc1, fc2: 4 x 16 x 8;
    # head: 3 classes x 8 (one pooled vector).
    assert dense == {"patch_embed": 128, "blocks.0.attn.qkv": 768, "blocks.0.attn.scores": 128,
                     "blocks.0.attn.values": 128, "blocks.0.attn.proj": 256,
                     "blocks.0.mlp.fc1": 512, "blocks.0.mlp.fc2": 512, "head": 24,
                     "total": 2456}
    # Without head 1: 12 qkv rows (4 x 12 x 8 = 384), its attention (64 + 64) and 4 proj
    # columns (4 x 8 x 4 = 128) go.
    head = vs.structured_mask(s, [vs.Unit("head", 0, 1)])
    assert vs.flops(s, head)["total"] == 128 + 384 + 64 + 64 + 128 + 512 + 512 + 24 == 1816
    # Also without channel 0: patch 4 x 7 x 4, qkv 4 x 12 x 7, proj 4 x 7 x 4, fc1/fc2 4 x 16 x 7.
    both = vs.structured_mask(s, [vs.Unit("head", 0, 1), vs.Unit("channel", -1, 0)])
    assert vs.flops(s, both)["total"] == 112 + 336 + 64 + 64 + 112 + 448 + 448 + 24 == 1608
    # Kept weights: 28 + 84 + 28 + 112 + 112 = 364 of 32 + 192 + 64 + 128 + 128 = 544.
    assert masks.density(both) == 364 / 544
    info = vs.summary(s, both, [vs.Unit("head", 0, 1), vs.Unit("channel", -1, 0)])
    assert info["flops_reduction"] == 1 - 1608 / 2456
    assert info["removed"] == {"head": 1, "neuron": 0, "channel": 1}


def test_closed_form_cost_agrees_with_the_mask_count():
    s = vs.ViTStructure.from_model(tiny(depth=2, class_token=True))
    assert s.tokens == 5
    units = s.units()
    rng = np.random.default_rng(0)
    for _ in range(5):
        removed = [units[i] for i in rng.choice(len(units), 12, replace=False)]
        mask = vs.structured_mask(s, removed)
        heads = [s.heads - sum(u.kind == "head" and u.block == i for u in removed)
                 for i in range(2)]
        neurons = [s.hidden - sum(u.kind == "neuron" and u.block == i for u in removed)
                   for i in range(2)]
        channels = s.dim - sum(u.kind == "channel" for u in removed)
        cost = vs.structured_cost(s, heads, neurons, channels)
        assert cost["flops"] == vs.flops(s, mask)["total"]
        assert cost["params"] == sum(int(m.sum()) for m in mask.values())
        assert set(vs.removed_units(s, mask)) == set(removed)


def test_loss_gate_gradients_are_weight_times_gradient_of_the_gated_weights():
    model, data = tiny(), feed()
    s = vs.ViTStructure.from_model(model)
    units, first, rows = savit.taylor_terms(model, s, data, vs.KINDS, 8, objective="loss")
    assert rows.shape == (32, 2 + 16 + 8)
    loss = torch.nn.functional.cross_entropy(model(data.x), data.y, reduction="sum")
    params = dict(model.named_parameters())
    grads = dict(zip(params, torch.autograd.grad(loss, list(params.values())), strict=True))

    def w_dot_g(weights):
        return sum(float((params[n].detach()[i] * grads[n][i]).sum()) for n, i in weights)

    # A head's gate scales its proj columns, a neuron's its fc2 column, a channel's every
    # weight of the channel (reads and writes).
    expected = {vs.Unit("head", 0, 1): [(vs.proj_name(0), (slice(None), slice(4, 8)))],
                vs.Unit("neuron", 0, 5): [(vs.fc2_name(0), (slice(None), 5))],
                vs.Unit("channel", -1, 3): s.unit_weights(vs.Unit("channel", -1, 3))}
    for unit, weights in expected.items():
        got = float(rows[:, units.index(unit)].sum())
        assert got == pytest.approx(w_dot_g(weights), rel=1e-4, abs=1e-9)
    assert torch.allclose(first, -rows.mean(0))


def test_logit_terms_predict_the_distortion_of_removing_a_neuron():
    # The Gauss-Newton term 1/2 |J d|^2 of a small unit is close to the real distortion.
    model, data = tiny(), feed()
    s = vs.ViTStructure.from_model(model)
    units, first, rows = savit.taylor_terms(model, s, data, ("neuron",), 8)
    assert rows.shape == (32 * 3, 16) and not first.any()
    unit = vs.Unit("neuron", 0, 2)
    predicted = float((rows[:, units.index(unit)] ** 2).mean() / 2)
    model.eval()
    with torch.no_grad():
        before = model(data.x)
        model.blocks[0].mlp.fc2.weight[:, 2] = 0
        after = model(data.x)
    actual = float(((after - before) ** 2).sum(1).mean() / 2)
    assert predicted == pytest.approx(actual, rel=0.05)


def test_random_logit_directions_estimate_the_exact_gauss_newton_terms():
    # 24 classes: exact rows (directions >= classes) against 12 Gaussian directions per
    # example; the summed own terms mean(r^2) agree to sampling error (seeds 1-4: 0.91-1.02).
    model, data = tiny(classes=24), feed()
    s = vs.ViTStructure.from_model(model)
    _, _, exact = savit.taylor_terms(model, s, data, vs.KINDS, 32, directions=24)
    _, _, sampled = savit.taylor_terms(model, s, data, vs.KINDS, 32, directions=12, seed=1)
    assert exact.shape[0] == 32 * 24 and sampled.shape[0] == 32 * 12
    ratio = (sampled ** 2).mean(0).sum() / (exact ** 2).mean(0).sum()
    assert 0.85 < float(ratio) < 1.15


def test_interaction_term_changes_which_unit_goes_second():
    # Gradient rows (two examples) of three neurons: u0 and u1 alike, u2 opposite to u0.
    # Own terms 1/2 mean(r^2): 0.5, 0.5, 0.605. After u0, u1's marginal is
    # mean(r0 r1) + 0.5 = 1.5 while u2's is mean(r0 r2) + 0.605 = -1.1 + 0.605 = -0.495, so
    # u2 goes second; ranked by own terms only, u1 would.
    s = vs.ViTStructure.from_model(tiny())
    units = [vs.Unit("neuron", 0, j) for j in range(3)]
    rows = torch.tensor([[1.0, 1.0, -1.1], [-1.0, -1.0, 1.1]])
    stop = 544 - 2 * 16  # two neurons: 2 x 8 weights each
    (order, cost, loss), = savit.removal_sets(torch.zeros(3), rows, units, s, "params", [stop])
    assert order == [0, 2] and cost == 512
    # dL = 1/2 mean((r0 + r2)^2) = 1/2 mean(0.01) = 0.005
    assert loss == pytest.approx(0.005)
    (diagonal, _, loss), = savit.removal_sets(torch.zeros(3), rows, units, s, "params", [stop],
                                              interactions=False)
    assert diagonal == [0, 1] and loss == pytest.approx(2.0)  # 1/2 mean((r0 + r1)^2) = 4 / 2


@pytest.mark.parametrize("neuron_cost, expected", [(0.04, [1, 2]), (0.06, [0])])
def test_search_ends_with_smaller_units_only_when_they_cost_less(neuron_cost, expected):
    # Head 0 (128 weights, dL 0.1) ranks first per weight but alone overshoots the 20 weights
    # asked for; two neurons (16 weights each) reach it too: 2 x 0.04 < 0.1 < 2 x 0.06.
    s = vs.ViTStructure.from_model(tiny())
    units = [vs.Unit("head", 0, 0), vs.Unit("neuron", 0, 0), vs.Unit("neuron", 0, 1)]
    own = torch.tensor([0.1, neuron_cost, neuron_cost])
    rows = torch.diag((6 * own).sqrt())  # 1/2 mean over 3 rows of r^2 = own; no cross terms
    (order, cost, loss), = savit.removal_sets(torch.zeros(3), rows, units, s, "params",
                                              [544 - 20])
    assert order == expected and loss == pytest.approx(float(own[expected].sum()))
    assert cost == 544 - (128 if expected == [0] else 32)


@pytest.mark.parametrize("budget, targets", [("flops", [0.3, 0.5]), ("params", [0.7, 0.4])])
def test_savit_masks_remove_whole_units_and_meet_the_budget(budget, targets):
    model = tiny(depth=2, class_token=True)
    s = vs.ViTStructure.from_model(model)
    out = savit.savit_masks(model, list(s.shapes()), feed(), SETTINGS, 0, budget, targets)
    previous = set()
    for (mask, info), target in zip(out, targets, strict=True):
        removed = vs.removed_units(s, mask)
        # Every zero belongs to a removed head, neuron or channel.
        rebuilt = vs.structured_mask(s, removed)
        assert all(torch.equal(mask[n], rebuilt[n]) for n in mask)
        assert info["removed"] == {k: sum(u.kind == k for u in removed) for k in vs.KINDS}
        if budget == "flops":
            assert info["flops_reduction"] >= target
        else:
            assert info["density"] <= target
        assert previous <= set(removed)  # nested: one removal order
        assert sum(u.kind == "channel" for u in removed) < s.dim
        previous = set(removed)


def test_savit_masks_are_deterministic():
    def run():
        model = tiny(depth=2, class_token=True)
        settings = dict(SETTINGS, directions=2)
        return savit.savit_masks(model, list(vs.ViTStructure.from_model(model).shapes()),
                                 feed(), settings, 3, "flops", [0.4])[0]

    (a, info_a), (b, info_b) = run(), run()
    assert all(torch.equal(a[n], b[n]) for n in a) and info_a == info_b


def test_savit_needs_every_unit_weight_prunable():
    model = tiny()
    names = [n for n in vs.ViTStructure.from_model(model).shapes() if "qkv" not in n]
    with pytest.raises(DiltError, match="model.ignore"):
        savit.savit_masks(model, names, feed(), SETTINGS, 0, "flops", [0.3])


@pytest.mark.parametrize("change, key", [({"objective": "hessian"}, "objective"),
                                         ({"components": ["tokens"]}, "components")])
def test_savit_settings_errors_name_the_key(change, key):
    model = tiny()
    with pytest.raises(DiltError, match=f"baselines.savit.{key}"):
        savit.savit_masks(model, list(vs.ViTStructure.from_model(model).shapes()), feed(),
                          dict(SETTINGS, **change), 0, "flops", [0.3])


def test_uniform_removal_takes_the_same_share_of_each_group_lowest_first():
    s = vs.ViTStructure.from_model(tiny())
    units = s.units(("head", "neuron"))
    scores = torch.arange(len(units), dtype=torch.float64).flip(0)  # later units score lower
    removed = savit.uniform_removal(s, units, scores, "params", 0.5)
    # A head holds 12 x 8 qkv + 8 x 4 proj = 128 weights, a neuron 16. Half of each group
    # (head 1, neurons 8-15) removes 256 of 544, short of the 272 needed; the smallest share
    # that reaches it, just over 8.5 / 16, keeps round(2 f) = 1 head and removes 9 neurons.
    assert [u for u in removed if u.kind == "head"] == [vs.Unit("head", 0, 1)]
    assert sorted(u.index for u in removed if u.kind == "neuron") == list(range(7, 16))
    assert masks.density(vs.structured_mask(s, removed)) == (544 - 128 - 9 * 16) / 544 == 0.5


def test_overlap_rows_by_hand():
    shapes = vs.ViTStructure.from_model(tiny()).shapes()
    a = {n: np.ones(sh, dtype=bool) for n, sh in shapes.items()}
    b = {n: np.ones(sh, dtype=bool) for n, sh in shapes.items()}
    # q third of qkv (rows 0-7, 64 weights): a keeps rows 0-3 (32), b rows 2-3 (16).
    a[vs.qkv_name(0)][4:8] = False
    b[vs.qkv_name(0)][[0, 1]] = False
    # b drops head 1 entirely: its q rows 4-7, k rows 12-15, v rows 20-23, proj columns 4-7.
    b[vs.qkv_name(0)][[4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23]] = False
    b[vs.proj_name(0)][:, 4:] = False
    tickets = masks.tickets([a, b], ["p0", "p1"])
    rows = {(r["block"], r["component"]): r
            for r in vit_overlap.overlap_rows([a, b], tickets, ["p0", "p1"], heads=2)}
    assert list(rows)[:4] == [("patch_embed", "proj"), ("blocks.0", "head0"),
                              ("blocks.0", "head1"), ("blocks.0", "q")]
    assert {c for _, c in rows} == {"proj", "head0", "head1", "q", "k", "v", "fc1", "fc2",
                                    "ffn"}
    q = rows["blocks.0", "q"]
    # J = 16 / 32; J0 = (1/2 1/4) / (1/2 + 1/4 - 1/8) = 1/5; (J - J0) / (1 - J0) = 3/8.
    assert (q["params"], q["density_p0"], q["density_p1"]) == (64, 0.5, 0.25)
    assert q["jaccard"] == 0.5 and q["chance_jaccard"] == pytest.approx(0.2)
    assert q["jaccard_vs_chance"] == pytest.approx(0.375)
    assert (q["core_density"], q["union_density"]) == (0.25, 0.5)
    assert (q["specialist_p0_density"], q["specialist_p1_density"]) == (0.25, 0.0)
    # A head: 12 qkv rows x 8 + 8 x 4 proj columns = 128 weights. Head 0: a keeps all, b all
    # but q rows 0-1 (112): J = 7/8 is exactly chance (a is dense), corrected 0.
    h0, h1 = rows["blocks.0", "head0"], rows["blocks.0", "head1"]
    assert (h0["params"], h0["density_p1"], h0["jaccard"]) == (128, 0.875, 0.875)
    assert h0["jaccard_vs_chance"] == pytest.approx(0.0)
    # Head 1: a keeps 96 (not q rows 4-7), b nothing: J = J0 = 0.
    assert (h1["density_p0"], h1["density_p1"], h1["jaccard"], h1["jaccard_vs_chance"]) == (
        0.75, 0.0, 0.0, 0.0)
    # Identical dense components: J = J0 = 1, chance-corrected undefined.
    assert np.isnan(rows["blocks.0", "fc1"]["jaccard_vs_chance"])
    assert rows["blocks.0", "ffn"]["params"] == 256


def test_savit_beats_uniform_l1_and_random_at_half_the_flops_on_digits():
    # A vit_mini trained for 10 epochs (~0.9 test accuracy), pruned to 50% FLOPs without
    # fine-tuning. bench/check_savit.py is the full comparison (40 epochs, 3 seeds).
    from dilt import datasets, models, train

    ds = datasets.load_digits({"test_fraction": 0.25, "split_seed": 0})
    train_feed = TensorFeed(torch.from_numpy(ds.train.x), torch.from_numpy(ds.train.y))
    test_feed = TensorFeed(torch.from_numpy(ds.test.x), torch.from_numpy(ds.test.y))
    cfg = {"arch": "vit_mini", "width": 32, "fc_width": 64, "ignore": []}
    model = models.init_model(cfg, (1, 8, 8), 10, 0)
    train.train(model, None, train_feed, {
        "epochs": 10, "batch_size": 32, "lr": 3e-3, "momentum": 0.9, "weight_decay": 0.05,
        "optimizer": "adamw", "warmup_epochs": 1, "grad_clip": 1.0}, 0, log=lambda s: None)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    s = vs.ViTStructure.from_model(model)
    units = s.units()
    (mask, info), = savit.savit_masks(model, models.prunable_names(model, cfg), train_feed,
                                      dict(SETTINGS, examples=256, batch_size=128), 0,
                                      "flops", [0.5])
    controls = [savit.uniform_removal(s, units, scores, "flops", 0.5)
                for scores in (savit.l1_scores(model, s, units), savit.random_scores(units, 0))]

    def accuracy(mask):
        model.load_state_dict(state)
        train.apply_mask(model, mask)
        return train.evaluate(model, test_feed)

    dense = accuracy({})
    others = [accuracy(vs.structured_mask(s, removed)) for removed in controls]
    assert info["flops_reduction"] >= 0.5 and dense > 0.85
    assert accuracy(mask) > max(others) + 0.1
