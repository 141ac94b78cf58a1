"""Checks across config keys that a JSON schema cannot express, and values derived from them."""

from .io import DiltError

NUM_CLASSES = {"digits": 10, "mnist1d": 10, "cifar10": 10, "cifar100": 100, "imagenet": 1000,
               "cars": 196}
DISK_DATASETS = ("cifar10", "cifar100", "imagenet", "cars")
NAMED_SCHEMES = ("animals_vehicles", "superclass")


def densities(cfg):
    """Expected density of each IMP round: (1 - fraction)^r, r = 0..rounds."""
    keep = 1.0 - cfg["imp"]["fraction"]
    return [keep**r for r in range(cfg["imp"]["rounds"] + 1)]


def retrain_rounds(cfg):
    """Rounds to retrain: retrain.rounds, or the rounds nearest each retrain.sparsities entry."""
    last = cfg["imp"]["rounds"]
    if cfg["retrain"]["rounds"] is not None:
        bad = [r for r in cfg["retrain"]["rounds"] if r > last]
        if bad:
            raise DiltError(f"retrain.rounds: {bad} beyond the last IMP round {last} (imp.rounds)")
        return sorted(set(cfg["retrain"]["rounds"]))
    sparsity = [1.0 - d for d in densities(cfg)]
    rounds = []
    for target in cfg["retrain"]["sparsities"]:
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


def _check_tickets(cfg, key, tickets):
    """Tickets named under `key` must come from an enabled IMP method and an existing part."""
    k = cfg["partitions"]["k"]
    for ticket in tickets:
        needs = {"lth": "lth", "random_lth": "lth", "colt": "colt"}.get(ticket, "dilt")
        if ticket in ("dense", "random_global", "snip", "grasp", "rigl"):
            continue
        if needs not in cfg["imp"]["methods"]:
            raise DiltError(f"{key}: '{ticket}' needs '{needs}' in imp.methods")
        part = ticket.rpartition("_p")[2]
        if ticket.startswith(("mask_p", "specialist_p")) and int(part) >= k:
            raise DiltError(f"{key}: '{ticket}' names a partition beyond partitions.k = {k}")


def check_dataset(cfg):
    """Disk datasets need dataset.data_root; dataset.image_size applies to class folders."""
    ds = cfg["dataset"]
    if ds["name"] in DISK_DATASETS and not ds["data_root"]:
        raise DiltError(f"dataset.data_root: required for {ds['name']} (the dataset directory)")
    if ds["image_size"] is not None and ds["name"] not in ("imagenet", "cars"):
        raise DiltError(f"dataset.image_size: only for imagenet and cars, not {ds['name']}")


def check(cfg):
    """Raise DiltError naming the key for combinations the schema cannot reject."""
    check_dataset(cfg)
    num_classes = NUM_CLASSES[cfg["dataset"]["name"]]
    parts = cfg["partitions"]
    if parts["classes"] is not None and parts["scheme"] != "explicit":
        raise DiltError("partitions.classes: only used with partitions.scheme: explicit")
    if parts["scheme"] in NAMED_SCHEMES:
        from .partitions import named_groups

        named_groups(parts["scheme"], cfg["dataset"]["name"], parts["k"])
    elif parts["scheme"] == "explicit":
        if not parts["classes"]:
            raise DiltError("partitions.classes: required when partitions.scheme is explicit")
        from .partitions import make_partitions

        make_partitions(num_classes, parts["k"], "explicit", parts["classes"])
    elif parts["k"] > num_classes:
        raise DiltError(f"partitions.k: {parts['k']} partitions but {cfg['dataset']['name']} "
                        f"has {num_classes} classes")
    retrain_rounds(cfg)
    figure_round(cfg)
    _check_tickets(cfg, "baselines.methods", cfg["baselines"]["methods"])
    _check_tickets(cfg, "baselines.reinit", cfg["baselines"]["reinit"])
    if cfg["transfer"]["target"] is not None:
        _check_tickets(cfg, "transfer.tickets", cfg["transfer"]["tickets"])
        transfer_rounds(cfg)


def schema_error(cfg, schema_path):
    """One line naming the key of the first schema violation, or None if the config is valid."""
    import jsonschema
    import yaml

    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(cfg),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    err = errors[0]
    key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
    return f"{key}: {err.message}"
