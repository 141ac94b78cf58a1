"""Where every artefact of a study lives: one method per kind of file.

Rules, tests and benchmarks all ask a `Paths` object; nothing else spells a results path.
Arguments default to Snakemake wildcards ("{seed}", "{round}"), so a rule gets the pattern
and a test gets a concrete file by passing values. Scripts never parse a path back: they
receive seeds, rounds and names as wildcards or params.
"""

WILD = {name: f"{{{name}}}" for name in ("seed", "round", "method", "part", "ticket", "target",
                                         "sparsity")}


def point_name(view, value):
    """The file-name form of a compared point: round{r} (same-round view) or sparsity{s}
    (matched view, s a target sparsity such as 0.9)."""
    return f"round{value}" if view == "round" else f"sparsity{value:g}" if isinstance(
        value, float) else f"sparsity{value}"


class Paths:
    """Paths of experiment `experiment` under `root` (the working directory by default)."""

    def __init__(self, experiment, root=""):
        self.root = f"{root}/" if root and not str(root).endswith("/") else str(root)
        self.experiment = experiment
        self.results = f"{self.root}results/{experiment}"

    def seed_dir(self, seed=WILD["seed"]):
        return f"{self.results}/seed{seed}"

    def partitions(self):
        """Class partitions, probe set and the dataset fingerprint (JSON)."""
        return f"{self.results}/partitions.json"

    def data(self):
        """The cached split: arrays of embedded datasets, labels of disk datasets."""
        return f"{self.results}/data.safetensors"

    def prepared(self, split, dataset, side):
        """index.json of a disk dataset's split ("train" or "test") prepared as `side`-pixel
        images (dilt.prepared); the shards lie beside it. The side is part of the path, so
        another side is another output."""
        return f"{self.results}/prepared/{dataset}-{side}px/{split}/index.json"

    def init(self, seed=WILD["seed"]):
        """theta0 of a seed."""
        return f"{self.seed_dir(seed)}/init.safetensors"

    def imp(self, name, method=WILD["method"], part=WILD["part"], rnd=WILD["round"],
            seed=WILD["seed"]):
        """A file of one IMP chain round: mask/trained/rewind .safetensors, metrics.json."""
        return f"{self.seed_dir(seed)}/imp/{method}/{part}/round{rnd}/{name}"

    def ticket(self, name, rnd=WILD["round"], seed=WILD["seed"]):
        """A DiLT ticket's mask (core, union, specialist_p{k}, random)."""
        return f"{self.seed_dir(seed)}/tickets/round{rnd}/{name}.safetensors"

    def overlap(self, rnd=WILD["round"], seed=WILD["seed"]):
        return f"{self.seed_dir(seed)}/tickets/round{rnd}/overlap.tsv"

    def vit_overlap(self, rnd=WILD["round"], seed=WILD["seed"]):
        """ViT runs: overlap and ticket densities per block x head / projection / FFN."""
        return f"{self.seed_dir(seed)}/tickets/round{rnd}/vit_overlap.tsv"

    def matched(self, name, sparsity=WILD["sparsity"], seed=WILD["seed"]):
        """An IMP-derived ticket matched to a target sparsity (dilt.matching)."""
        return f"{self.matching(seed)}/{point_name('matched', sparsity)}/{name}.safetensors"

    def matching(self, seed=WILD["seed"]):
        """Where the match checkpoint writes: the matched masks and matching.tsv."""
        return f"{self.seed_dir(seed)}/matched"

    def baseline(self, name, sparsity=WILD["sparsity"], seed=WILD["seed"]):
        """A baseline method's mask at a target sparsity."""
        point = point_name("matched", sparsity)
        return f"{self.seed_dir(seed)}/baselines/{point}/{name}.safetensors"

    def baseline_weights(self, name, sparsity=WILD["sparsity"], seed=WILD["seed"]):
        """The pruned network's weights beside a baseline's mask (methods with `weights`)."""
        point = point_name("matched", sparsity)
        return f"{self.seed_dir(seed)}/baselines/{point}/{name}.weights.safetensors"

    def baseline_record(self, name, sparsity=WILD["sparsity"], seed=WILD["seed"]):
        """How a baseline with `weights` made its mask: start weights, density, FLOPs (JSON)."""
        point = point_name("matched", sparsity)
        return f"{self.seed_dir(seed)}/baselines/{point}/{name}.json"

    def retrain(self, ticket=WILD["ticket"], point="round{round}", seed=WILD["seed"]):
        """Result of retraining a ticket at a point (point_name) (JSON)."""
        return f"{self.seed_dir(seed)}/retrain/{ticket}/{point}.json"

    def transfer_target(self, name, target=WILD["target"]):
        """The transfer target's cached split (data.safetensors) or description (dataset.json)."""
        return f"{self.results}/transfer/{target}/{name}"

    def transfer(self, ticket=WILD["ticket"], rnd=WILD["round"], seed=WILD["seed"],
                 target=WILD["target"]):
        """Result of training a source ticket on the transfer target (JSON)."""
        return f"{self.seed_dir(seed)}/transfer/{target}/{ticket}/round{rnd}.json"

    def analysis(self, name, rnd=WILD["round"], seed=WILD["seed"]):
        """A functional-analysis file of a round: distances_{part}.npz, gw.tsv, clusters.tsv,
        blocks.tsv, correlation.json."""
        return f"{self.seed_dir(seed)}/gw/round{rnd}/{name}"

    def table(self, name):
        return f"{self.results}/tables/{name}.tsv"

    def figure(self, name, ext):
        return f"{self.results}/figures/{name}.{ext}"

    def log(self, key):
        """Log of the job `key` (e.g. "seed{seed}/init")."""
        return f"{self.root}logs/{self.experiment}/{key}.log"

    def benchmark(self, key):
        """Snakemake benchmark file of the job `key`."""
        return f"{self.root}benchmarks/{self.experiment}/{key}.tsv"
