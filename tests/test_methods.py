"""The method registry: ticket names, families, mask files and the wall-clock of finding each."""

import pytest

from dilt import methods
from dilt.paths import Paths

PARTS = ["p0", "p1"]


def test_method_families():
    families = {t: methods.parse(t).family for t in [
        "core", "union", "specialist_p0", "mask_p1", "random", "random_global", "random_lth",
        "lth", "colt", "reinit_lth", "snip", "grasp", "rigl", "cap", "savit", "dense"]}
    assert families == {
        "core": "dilt", "union": "dilt", "specialist_p0": "dilt", "mask_p1": "dilt",
        "random": "random", "random_global": "random", "random_lth": "random", "lth": "lth",
        "colt": "colt", "reinit_lth": "reinit", "snip": "snip", "grasp": "grasp",
        "rigl": "rigl", "cap": "cap", "savit": "savit", "dense": "dense"}


def test_ticket_names_parse_to_their_records():
    assert methods.parse("specialist_p1").part == "p1"
    reinit = methods.parse("reinit_core")
    assert reinit.reinit and reinit.mask_ticket == "core" and reinit.family == "reinit"
    assert methods.parse("mask_p0").method.kind == methods.IMP_CHAIN
    for bad in ["specialist", "core_p0", "reinit_dense", "reinit_rigl", "magnitude"]:
        with pytest.raises(methods.DiltError):
            methods.parse(bad)


def test_every_ticket_kind_has_its_mask_file_in_both_views():
    paths = Paths("x")
    rounds = {t: methods.mask_path(paths, t, (methods.ROUND, 3), 0) for t in [
        "core", "specialist_p1", "random", "random_specialist_p0", "mask_p1", "lth", "colt",
        "dense"]}
    seed = "results/x/seed0"
    assert rounds == {
        "core": f"{seed}/tickets/round3/core.safetensors",
        "specialist_p1": f"{seed}/tickets/round3/specialist_p1.safetensors",
        "random": f"{seed}/tickets/round3/random.safetensors",
        "random_specialist_p0": f"{seed}/tickets/round3/random_specialist_p0.safetensors",
        "mask_p1": f"{seed}/imp/dilt/p1/round3/mask.safetensors",
        "lth": f"{seed}/imp/lth/full/round3/mask.safetensors",
        "colt": f"{seed}/imp/colt/p0/round3/mask.safetensors",
        "dense": None}
    matched = {t: methods.mask_path(paths, t, (methods.MATCHED, 0.9), 0) for t in [
        "core", "lth", "random_lth", "reinit_lth", "snip", "rigl", "cap"]}
    assert matched == {
        "core": f"{seed}/matched/sparsity0.9/core.safetensors",
        "lth": f"{seed}/matched/sparsity0.9/lth.safetensors",
        "random_lth": f"{seed}/matched/sparsity0.9/random_lth.safetensors",
        "reinit_lth": f"{seed}/matched/sparsity0.9/lth.safetensors",
        "snip": f"{seed}/baselines/sparsity0.9/snip.safetensors",
        "rigl": f"{seed}/baselines/sparsity0.9/rigl.safetensors",
        "cap": f"{seed}/baselines/sparsity0.9/cap.safetensors"}
    assert [m for m in methods.RECORDS.values() if m.weights] == [
        methods.RECORDS["cap"], methods.RECORDS["savit"]]


def test_finders_name_the_chains_and_the_own_job():
    assert methods.finders("core", PARTS) == ([("dilt", "p0"), ("dilt", "p1")], None)
    assert methods.finders("mask_p1", PARTS) == ([("dilt", "p1")], None)
    assert methods.finders("random_lth", PARTS) == ([("lth", "full")], None)
    assert methods.finders("reinit_colt", PARTS) == ([("colt", "p0"), ("colt", "p1")], None)
    assert methods.finders("snip", PARTS) == ([], "snip")
    assert methods.finders("dense", PARTS) is None
    # CAP and SAViT prune LTH's trained round 0: that round and their own job find them
    assert methods.finders("cap", PARTS) == ([("lth", "full")], "cap")
    assert [methods.last_chain_round(t, s) for t, s in
            [("cap", None), ("savit", None), ("snip", None), ("core", 4), ("core", None)]] == [
        0, 0, -1, 4, -1]
    assert methods.start_weights(Paths("x"), "savit", 1) == \
        "results/x/seed1/imp/lth/full/round0/trained.safetensors"


def test_each_view_retrains_its_tickets():
    assert methods.retrained(methods.ROUND, PARTS, ["dilt", "lth"], ["snip", "random_lth"],
                             ["lth"]) == [
        "core", "union", "specialist_p0", "specialist_p1", "mask_p0", "mask_p1", "lth",
        "random", "random_core", "random_specialist_p0", "random_specialist_p1",
        "random_lth"]
    assert methods.retrained(methods.MATCHED, PARTS, ["lth"], ["snip"], ["lth"]) == [
        "lth", "snip", "reinit_lth"]
    assert methods.retrained(methods.MATCHED, PARTS, ["dilt"], ["cap"]) == [
        "core", "union", "specialist_p0", "specialist_p1", "mask_p0", "mask_p1", "random",
        "random_core", "random_specialist_p0", "random_specialist_p1"]  # CAP needs LTH
    assert methods.written_together(methods.MATCHED, PARTS, ["lth"], ["random_lth"]) == [
        "lth", "random_lth"]


def test_config_tickets_need_their_imp_method_and_partition():
    methods.check_tickets("k", ["random_lth", "specialist_p1"], ["dilt", "lth"], 2)
    with pytest.raises(methods.DiltError, match="k: 'random_lth' needs 'lth'"):
        methods.check_tickets("k", ["random_lth"], ["dilt"], 2)
    with pytest.raises(methods.DiltError, match="k: 'savit' needs 'lth'"):
        methods.check_tickets("k", ["savit"], ["dilt", "colt"], 2)
    with pytest.raises(methods.DiltError, match="beyond partitions.k = 2"):
        methods.check_tickets("k", ["mask_p2"], ["dilt"], 2)


