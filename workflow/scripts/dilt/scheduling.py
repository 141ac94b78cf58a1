"""What each kind of compute job asks the scheduler for (config section `resources`).

Kinds: `train` (IMP rounds, retraining, RigL, transfer), `probe` (saliency scores, CAP,
SAViT, probe distances), `partitions`, `match`, `prepare` (prepare_dataset) and `gw`. GPU
kinds give `gpus` per job and their memory per GPU; their threads are the config's `threads`
per GPU. Memory and runtime
grow by `resources.growth` on every retry of a job, capped at `resources.max_mem_mb` (a
node's memory) and `resources.max_runtime` (a partition's time limit): a job resubmitted
after a time limit resumes from its checkpoint, so it needs the time again, not more.
Resources are no rerun trigger: changing them reruns nothing. Light on purpose:
rules/common.smk imports it at parse time.
"""

import math

from .io import DiltError

GPU_KINDS = ("train", "probe")
KINDS = (*GPU_KINDS, "partitions", "match", "prepare", "gw")


def gpus(cfg, kind):
    """GPUs per job of `kind` (0 for kinds that never use one)."""
    return cfg["resources"][kind].get("gpus", 0)


def threads(cfg, kind):
    """Threads of a job of `kind`: GPU kinds take `threads` per GPU (per training process)."""
    if kind in GPU_KINDS:
        return cfg["threads"] * max(1, gpus(cfg, kind))
    return cfg["resources"][kind]["threads"]


def grown(value, attempt, growth, cap=None):
    """`value` on attempt `attempt` (1 = first): value x growth^(attempt - 1), at most `cap`."""
    value = math.ceil(value * growth ** (attempt - 1))
    return value if cap is None else min(value, cap)


def rule_resources(cfg, kind):
    """The `resources:` of a rule of `kind`: mem_mb and runtime (minutes) as functions of the
    attempt, and `gpu` for GPU kinds and for GW on a GPU (gw.device; the SLURM profile turns
    it into --gpus)."""
    top, res = cfg["resources"], cfg["resources"][kind]
    per_job = max(1, gpus(cfg, kind))

    def mem_mb(wildcards, attempt):
        return grown(res["mem_mb"] * per_job, attempt, top["growth"], top["max_mem_mb"])

    def runtime(wildcards, attempt):
        return grown(res["runtime"], attempt, top["growth"], top["max_runtime"])

    out = {"mem_mb": mem_mb, "runtime": runtime}
    if kind in GPU_KINDS:
        out["gpu"] = gpus(cfg, kind)
    elif kind == "gw" and cfg["gw"]["device"] != "cpu":
        out["gpu"] = 1  # gw.device cuda: the batched torch search
    return out


def retries(cfg, kind):
    """Retries of a job of `kind` (None: Snakemake's --retries)."""
    return cfg["resources"][kind]["retries"]


def check(cfg):
    """The device and the GPUs asked for agree: `device: cuda` needs GPUs in every job that
    trains or probes (else SLURM places them on nodes without one); `cuda:N` pins every job to
    one GPU by hand, which per-job GPUs replace."""
    device = cfg["device"]
    for kind in GPU_KINDS:
        count = gpus(cfg, kind)
        if device == "cuda" and count == 0:
            raise DiltError(f"resources.{kind}.gpus: 0, but device: cuda needs a GPU in "
                            f"every {kind} job (set gpus: 1, or device: auto)")
        if device.startswith("cuda:") and count > 0:
            raise DiltError(f"device: {device} pins every job to one GPU, but "
                            f"resources.{kind}.gpus gives each job its own: use device: cuda")
