"""The config as the workflow reads it: `--config` values typed as YAML, the schema's defaults
and checks, the checks across keys that a JSON schema cannot express, and the values derived
from them (the rounds each stage compares, the nominal density of each round)."""

from . import arch_layers, datasets, methods, partitions
from .io import DiltError


def vit_heads(cfg):
    """Heads per block of model.arch if it is a plain ViT, else None."""
    return arch_layers.VIT_HEADS.get(cfg["model"]["arch"])


def fraction(cfg, method="dilt"):
    """Per-round pruning fraction of an IMP method: imp.colt_fraction (if set) for COLT."""
    if method == "colt" and cfg["imp"]["colt_fraction"] is not None:
        return cfg["imp"]["colt_fraction"]
    return cfg["imp"]["fraction"]


def densities(cfg, method="dilt"):
    """Nominal density of each IMP round of `method`'s chains: (1 - fraction)^r."""
    keep = 1.0 - fraction(cfg, method)
    return [keep**r for r in range(cfg["imp"]["rounds"] + 1)]


def schedules(cfg):
    """{IMP method: nominal density of each round} (see methods.nominal_density)."""
    return {m: densities(cfg, m) for m in methods.IMP_METHODS}


def targets(cfg):
    """Target sparsities of the matched view (retrain.sparsities), ascending."""
    return sorted(set(cfg["retrain"]["sparsities"]))


def retrain_start(cfg):
    """Where IMP-derived tickets of the matched view start retraining: `init` (theta0) or
    `rewind` (LTH's weights after imp.rewind_step steps, continuing the schedule from there);
    retrain.start null follows imp.rewind_step."""
    start = cfg["retrain"]["start"]
    if start is None:
        start = "rewind" if cfg["imp"]["rewind_step"] > 0 else "init"
    if start == "rewind" and cfg["imp"]["rewind_step"] == 0:
        raise DiltError("retrain.start: rewind needs imp.rewind_step > 0")
    if start == "rewind" and "lth" not in cfg["imp"]["methods"]:
        raise DiltError("retrain.start: rewind starts from LTH's rewind point; add lth to "
                        "imp.methods or set retrain.start: init")
    return start


def retrain_rounds(cfg):
    """Rounds of the same-round view: retrain.rounds, or the round whose nominal density is
    nearest the largest retrain.sparsities entry (experiment 3 compares at high sparsity)."""
    last = cfg["imp"]["rounds"]
    if cfg["retrain"]["rounds"] is not None:
        bad = [r for r in cfg["retrain"]["rounds"] if r > last]
        if bad:
            raise DiltError(f"retrain.rounds: {bad} beyond the last IMP round {last} (imp.rounds)")
        return sorted(set(cfg["retrain"]["rounds"]))
    sparsity = [1.0 - d for d in densities(cfg)]
    rounds = []
    for target in sorted(cfg["retrain"]["sparsities"])[-1:]:
        best = min(range(last + 1), key=lambda r: abs(sparsity[r] - target))
        if abs(sparsity[best] - target) > 0.05:
            raise DiltError(f"retrain.sparsities: {target} is not reached within 0.05 by any "
                            f"of the {last} IMP rounds (max {sparsity[-1]:.3f}); raise imp.rounds")
        rounds.append(best)
    return sorted(set(rounds))


def resolve_round(r, cfg, key):
    """A round index where negative values count back from the last IMP round."""
    last = cfg["imp"]["rounds"]
    resolved = r + last + 1 if r < 0 else r
    if not 0 <= resolved <= last:
        raise DiltError(f"{key}: round {r} outside 0..{last} (imp.rounds)")
    return resolved


def gw_rounds(cfg):
    return sorted({resolve_round(r, cfg, "gw.rounds") for r in cfg["gw"]["rounds"]})


def figure_round(cfg):
    r = resolve_round(cfg["gw"]["figure_round"], cfg, "gw.figure_round")
    if r not in gw_rounds(cfg):
        raise DiltError(f"gw.figure_round: round {r} is not among gw.rounds {gw_rounds(cfg)}")
    return r


def transfer_rounds(cfg):
    """Rounds whose tickets are transferred: transfer.rounds, or the sparsest retrained round."""
    rounds = cfg["transfer"]["rounds"]
    if rounds is None:
        return [max(retrain_rounds(cfg))]
    bad = [r for r in rounds if r > cfg["imp"]["rounds"]]
    if bad:
        raise DiltError(f"transfer.rounds: {bad} beyond the last IMP round "
                        f"{cfg['imp']['rounds']} (imp.rounds)")
    return sorted(set(rounds))


def check_dataset(cfg):
    """Disk datasets need dataset.data_root; dataset.image_size applies to datasets whose
    input side is not fixed (class folders)."""
    ds = cfg["dataset"]
    record = datasets.info(ds["name"])
    if record.storage == "disk" and not ds["data_root"]:
        raise DiltError(f"dataset.data_root: required for {ds['name']} (the dataset directory)")
    if ds["image_size"] is not None and (record.storage != "disk" or record.input_side):
        raise DiltError(f"dataset.image_size: not used by {ds['name']}")
    return record


def prepared_side(cfg):
    """Side of the images rule prepare_dataset stores: CIFAR's own 32, else
    dataset.prepared_resolution."""
    ds = cfg["dataset"]
    return datasets.info(ds["name"]).input_side or ds["prepared_resolution"]


def check_prepared(cfg, record):
    """dataset.prepared applies to disk datasets, stores images at least as large as any
    training or evaluation size; train.resolution resizes prepared class-folder images."""
    ds, res = cfg["dataset"], cfg["train"]["resolution"]
    if ds["prepared"] and record.storage != "disk":
        raise DiltError(f"dataset.prepared: {record.name} is held in memory; nothing to prepare")
    if res is not None:
        if not ds["prepared"] or record.input_side:
            raise DiltError("train.resolution: progressive resizing needs a class-folder "
                            "dataset read prepared (dataset.prepared: true)")
        if res["min_res"] > res["max_res"] or res["start_ramp"] > res["end_ramp"]:
            raise DiltError("train.resolution: needs min_res <= max_res and "
                            "start_ramp <= end_ramp")
        if cfg["transfer"]["target"] is not None:
            raise DiltError("train.resolution: the transfer target trains in memory at one "
                            "size; set transfer.target: null")
    if ds["prepared"] and not record.input_side:
        sizes = [datasets.input_side(record, ds["image_size"])]
        sizes += [res["max_res"]] if res else []
        if ds["prepared_resolution"] < max(sizes):
            raise DiltError(f"dataset.prepared_resolution: {ds['prepared_resolution']} is below "
                            f"the largest training or evaluation size {max(sizes)}")


def check_gw(cfg):
    """The batched torch search (gw.device cuda) runs solvers local and local+ecc."""
    gw = cfg["gw"]
    if gw["device"] != "cpu" and gw["solver"] not in ("local", "local+ecc"):
        raise DiltError(f"gw.solver: {gw['solver']} runs on the CPU only; gw.device "
                        f"{gw['device']} runs local or local+ecc")


def check_partitions(cfg, num_classes):
    parts, name = cfg["partitions"], cfg["dataset"]["name"]
    if parts["classes"] is not None and parts["scheme"] != "explicit":
        raise DiltError("partitions.classes: only used with partitions.scheme: explicit")
    if parts["scheme"] == "explicit" and not parts["classes"]:
        raise DiltError("partitions.classes: required when partitions.scheme is explicit")
    if parts["scheme"] in ("contiguous", "random") and parts["k"] > num_classes:
        raise DiltError(f"partitions.k: {parts['k']} partitions but {name} has {num_classes} "
                        "classes")
    partitions.make_partitions(num_classes, parts["k"], parts["scheme"], parts["classes"],
                               parts["seed"], name)


def check_tickets(cfg):
    """Tickets named in the config exist, and their masks' IMP methods are enabled."""
    imp, k = cfg["imp"]["methods"], cfg["partitions"]["k"]
    methods.check_tickets("baselines.methods", cfg["baselines"]["methods"], imp, k)
    methods.check_tickets("baselines.reinit", cfg["baselines"]["reinit"], imp, k)
    for name in cfg["baselines"]["methods"]:
        if methods.RECORDS[name].arch_family == "vit" and vit_heads(cfg) is None:
            vits = ", ".join(arch_layers.VIT_HEADS)
            raise DiltError(f"baselines.methods: '{name}' prunes ViTs ({vits}), "
                            f"not model.arch {cfg['model']['arch']}")
        if methods.RECORDS[name].arch_family == "vit" and cfg["imp"]["head_rate"] > 0:
            raise DiltError(f"imp.head_rate: {name} prunes whole units of the ViT blocks and "
                            "keeps the output layer, which every mask then prunes (set 0)")
    for name in cfg["baselines"]["reinit"]:
        if methods.parse(name).method.kind not in (methods.IMP_CHAIN, methods.DERIVED):
            raise DiltError(f"baselines.reinit: '{name}' is not an IMP-derived ticket")
    if cfg["transfer"]["target"] is not None:
        methods.check_tickets("transfer.tickets", cfg["transfer"]["tickets"], imp, k)
        bad = [t for t in cfg["transfer"]["tickets"]
               if methods.parse(t).method.kind == methods.TRAINED_SPARSE
               or methods.parse(t).reinit]
        if bad:
            raise DiltError(f"transfer.tickets: {bad} have no fixed mask to transfer")


def check_retrain(cfg):
    """At least one round is retrained (transfer and the experiment tables need one)."""
    if not retrain_rounds(cfg):
        key = "retrain.rounds" if cfg["retrain"]["rounds"] is not None else "retrain.sparsities"
        raise DiltError(f"{key}: empty, so no round is retrained (set retrain.sparsities or "
                        "retrain.rounds)")


def layer_nodes(cfg):
    """Number of layers the GW analysis clusters: representation layers x partitions."""
    return len(arch_layers.representation_layers(cfg["model"])) * cfg["partitions"]["k"]


def check_model(cfg, record):
    """The model takes the dataset's inputs; model.ignore names prunable layers; vit_mini's
    width splits over its 4 heads; gw.n_clusters is at most the number of layer nodes."""
    model = cfg["model"]
    arch_layers.check_input(model["arch"], datasets.input_shape(record, cfg["dataset"]))
    arch_layers.check_ignore(model)
    if model["arch"] == "vit_mini" and model["width"] % 4:
        raise DiltError(f"model.width: vit_mini splits it over 4 heads, got {model['width']}")
    n_clusters, nodes = cfg["gw"]["n_clusters"], layer_nodes(cfg)
    if n_clusters is not None and n_clusters > nodes:
        layers = len(arch_layers.representation_layers(model))
        raise DiltError(f"gw.n_clusters: {n_clusters} clusters of {nodes} layer nodes "
                        f"({layers} representation layers of {model['arch']} x "
                        f"{cfg['partitions']['k']} partitions)")


def check(cfg):
    """Raise DiltError naming the key for combinations the schema cannot reject."""
    record = check_dataset(cfg)
    check_prepared(cfg, record)
    check_partitions(cfg, record.num_classes)
    check_retrain(cfg)
    check_gw(cfg)
    figure_round(cfg)
    check_tickets(cfg)
    retrain_start(cfg)
    check_model(cfg, record)
    if cfg["transfer"]["target"] is not None:
        if cfg["transfer"]["target"] == cfg["dataset"]["name"]:
            raise DiltError(f"transfer.target: {cfg['transfer']['target']} is the source "
                            "dataset (dataset.name); transfer needs another task")
        transfer_rounds(cfg)


def typed_overrides(args):
    """{key: value} of `--config key=value` arguments, each value read as YAML: lists,
    numbers, booleans, null and nested mappings (`train={epochs: 3}`) get their types.
    (Snakemake reads list items and nested values as strings.)"""
    import yaml

    overrides = {}
    for arg in args or ():
        key, _, text = arg.partition("=")
        try:
            overrides[key] = yaml.safe_load(text) if text else None
        except yaml.YAMLError as exc:
            raise DiltError(f"{key}: --config value {text!r} is not YAML "
                            f"({getattr(exc, 'problem', exc)})") from None
    return overrides


def merge(base, update):
    """Merge `update` into `base` in place: mappings key by key, any other value replaces."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def load(cfg, schema_path, config_args=()):
    """Prepare the config in place before any job: type the `--config` arguments, fill in
    the schema's defaults, validate, and run every check. Raise DiltError naming the key."""
    merge(cfg, typed_overrides(config_args))
    validate(cfg, schema_path)
    check(cfg)
    return cfg


def experiment(paths):
    """The experiment name of config files merged in order (results/{experiment})."""
    import yaml

    cfg = {}
    for path in paths:
        with open(path) as fh:
            merge(cfg, yaml.safe_load(fh) or {})
    return cfg["experiment"]


def load_schema(path):
    """The config schema of `path`, with the names the registries know as enums: dataset.name
    and transfer.target (dilt.datasets), baselines.methods (dilt.methods)."""
    import yaml

    with open(path) as fh:
        schema = yaml.safe_load(fh)
    props = schema["properties"]
    props["dataset"]["properties"]["name"]["enum"] = list(datasets.REGISTRY)
    props["transfer"]["properties"]["target"]["enum"] = [
        *(d.name for d in datasets.REGISTRY.values() if d.transfer), None]
    props["baselines"]["properties"]["methods"]["items"]["enum"] = methods.baseline_names()
    return schema


def validate(cfg, schema_path):
    """Fill in the schema's defaults (in place) and raise DiltError naming the key of the
    first violation."""
    import copy

    import jsonschema

    def set_defaults(validator, properties, instance, schema):
        for name, sub in properties.items():
            if "default" in sub and isinstance(instance, dict):
                instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from jsonschema.Draft202012Validator.VALIDATORS["properties"](
            validator, properties, instance, schema)

    validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                             {"properties": set_defaults})
    errors = sorted(validator(load_schema(schema_path)).iter_errors(cfg),
                    key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        key = ".".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise DiltError(f"{key}: {errors[0].message}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["experiment"]:  # used by the Makefile
        print(experiment(sys.argv[2:]))
    else:
        sys.exit("usage: python -m dilt.configuration experiment CONFIG_FILE...")
