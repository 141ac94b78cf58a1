"""Wrong configs stop before any job runs, with one line naming the key."""

import pytest
import yaml
from workflow_run import TINY, snakemake

BAD = [
    ({"dataset": {"name": "imagenet99"}}, "dataset.name"),
    ({"partitions": {"k": 1}}, "partitions.k"),
    ({"partitions": {"k": 11}}, "partitions.k"),
    ({"partitions": {"scheme": "explicit", "classes": [[0, 1, 2], [2, 3]]}}, "partitions.classes"),
    ({"partitions": {"scheme": "explicit", "classes": [[0, 1], [2, 12]]}}, "partitions.classes"),
    ({"partitions": {"scheme": "explicit"}}, "partitions.classes"),
    ({"partitions": {"classes": [[0], [1]]}}, "partitions.classes"),
    ({"imp": {"fraction": 0.0}}, "imp.fraction"),
    ({"imp": {"fraction": 1.5}}, "imp.fraction"),
    ({"imp": {"methods": ["snipe"]}}, "imp.methods"),
    ({"train": {"epochs": 0}}, "train.epochs"),
    ({"train": {"lr": "fast"}}, "train.lr"),
    ({"model": {"arch": "resnet9000"}}, "model.arch"),
    ({"seeds": []}, "seeds"),
    ({"experiment": "../escape"}, "experiment"),
    ({"retrain": {"rounds": [7]}}, "retrain.rounds"),
    ({"retrain": {"rounds": None, "sparsities": [0.99]}}, "retrain.sparsities"),
    ({"gw": {"rounds": [9]}}, "gw.rounds"),
    ({"gw": {"figure_round": 1}}, "gw.figure_round"),
    ({"gw": {"n_clusters": 1}}, "gw.n_clusters"),
    ({"gw": {"device": "cuda", "solver": "swap"}}, "gw.solver"),
    ({"train": {"resolution": {"min_res": 8, "max_res": 8, "start_ramp": 0, "end_ramp": 0}}},
     "train.resolution"),
    ({"dataset": {"test_fraction": 1.0}}, "dataset.test_fraction"),
    ({"unknown_key": 3}, "unknown_key"),
    ({"imp": {"colt_fraction": 1.0}}, "imp.colt_fraction"),
    ({"imp": {"rewind_step": -1}}, "imp.rewind_step"),
    ({"imp": {"methods": ["dilt"]}, "baselines": {"methods": ["random_lth"]}},
     "baselines.methods"),
    ({"imp": {"methods": ["dilt"]}, "baselines": {"methods": ["snip"], "reinit": ["lth"]}},
     "baselines.reinit"),
    ({"baselines": {"methods": ["pgd"]}}, "baselines.methods"),
    ({"baselines": {"rigl": {"distribution": "gaussian"}}}, "baselines.rigl.distribution"),
    ({"baselines": {"methods": ["savit"]}}, "baselines.methods"),  # SAViT on Conv-4
    ({"model": {"arch": "vit_mini"}, "baselines": {"methods": ["savit"]},
      "imp": {"head_rate": 0.5}}, "imp.head_rate"),
    ({"baselines": {"cap": {"damp": 0}}}, "baselines.cap.damp"),
    ({"baselines": {"savit": {"components": ["layers"]}}}, "baselines.savit.components"),
    ({"transfer": {"target": "cifar10"}}, "transfer.target"),
    ({"transfer": {"tickets": ["mask_p2"]}}, "transfer.tickets"),
    ({"transfer": {"rounds": [9]}}, "transfer.rounds"),
    ({"gw": {"n_clusters": 13}}, "gw.n_clusters"),  # 6 layers of conv4 x 2 partitions
    ({"model": {"ignore": ["conv9"]}}, "model.ignore"),
    ({"model": {"ignore": ["conv1", "conv2", "conv3", "conv4", "fc1", "fc2"]}}, "model.ignore"),
    ({"model": {"arch": "vit_mini", "width": 6}}, "model.width"),
    ({"model": {"arch": "resnet50"}}, "model.arch"),  # digits are not RGB
    ({"retrain": {"rounds": []}}, "retrain.rounds"),
    ({"retrain": {"sparsities": []}}, "retrain.sparsities"),
    ({"imp": {"rewind_step": 0}, "retrain": {"start": "rewind"}}, "retrain.start"),
    ({"transfer": {"target": "digits"}}, "transfer.target"),
    ({"device": "cuda"}, "resources.train.gpus"),
    ({"resources": {"probe": {"gpus": 2}}}, "resources.probe.gpus"),
    ({"resources": {"train": {"runtime": 0}}}, "resources.train.runtime"),
    ({"checkpoint": {"minutes": 0}}, "checkpoint.minutes"),
]


@pytest.mark.parametrize("override,key", BAD, ids=[k for _, k in BAD])
def test_bad_config_fails_at_parse_time_naming_the_key(tmp_path, override, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(override))
    proc = snakemake(tmp_path, "-n", configfiles=[TINY, bad], check=False)
    assert proc.returncode != 0
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.startswith("config error")]
    assert len(lines) == 1 and key in lines[0], proc.stderr[-2000:]
    assert not (tmp_path / "results").exists()
