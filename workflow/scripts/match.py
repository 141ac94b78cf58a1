"""Rule match: every IMP-derived ticket and its random control at each target sparsity, from
the IMP chains of all rounds (dilt.matching), and matching.tsv recording each match."""

from pathlib import Path

import numpy as np
import pandas as pd

from dilt import io, masks, matching, methods, rule_job
from dilt.paths import point_name
from dilt.seeding import job_seed


def chain_rounds(smk, method, name):
    """[[file of each chain] per round] of one method's `name` inputs."""
    files = list(smk.input[f"{name}_{method}"])
    width = len(files) // smk.params.rounds
    return [files[r * width:(r + 1) * width] for r in range(smk.params.rounds)]


def match_at(smk, sparsity, chain_masks, log):
    """{ticket: mask or None} and the records of every ticket at one target sparsity."""
    seed, found, records = smk.wildcards.seed, {}, []
    for name in smk.params.tickets:  # IMP chains' masks and derived tickets first
        ticket = methods.parse(name)
        if ticket.method.kind == methods.CONTROL:
            continue
        method = ticket.method.chains
        trained = chain_rounds(smk, method, "trained")
        found[name], record = matching.match_ticket(
            name, *ticket.algebra, 1.0 - sparsity, chain_masks[method],
            lambda rnd, trained=trained: [io.load_arrays(f) for f in trained[rnd]],
            smk.params.scope)
        records.append(record)
    for name in smk.params.tickets:  # controls: the per-layer counts of their reference
        ticket = methods.parse(name)
        if ticket.method.kind != methods.CONTROL:
            continue
        reference = found[ticket.reference]
        rng = np.random.default_rng(job_seed(seed, name, point_name("matched", sparsity)))
        found[name] = None if reference is None else masks.random_like(reference, rng)
        records.append({"ticket": name, "feasible": reference is not None,
                        "density": None if reference is None else masks.density(found[name]),
                        "reason": f"random with the per-layer counts of the matched "
                                  f"{ticket.reference}"})
    for record in records:
        mask = found[record["ticket"]]
        record.update(target_sparsity=sparsity, empty_layers=",".join(
            matching.empty_layers(mask)) if mask is not None else "")
        log(f"{record['ticket']} at sparsity {sparsity}: {record['reason']}"
            + (f"; empty layers {record['empty_layers']}" if record["empty_layers"] else ""))
    return found, records


def main(smk, log):
    out = Path(smk.output[0])
    methods_used = {methods.parse(t).method.chains for t in smk.params.tickets}
    chain_masks = {m: {r: [io.load_arrays(f) for f in files]
                       for r, files in enumerate(chain_rounds(smk, m, "mask"))}
                   for m in methods_used}
    rows = []
    for sparsity in smk.params.targets:
        found, records = match_at(smk, sparsity, chain_masks, log)
        rows += records
        for name, mask in found.items():
            if mask is not None:
                io.save_arrays(out / point_name("matched", sparsity) / f"{name}.safetensors",
                               mask)
    table = pd.DataFrame(rows)
    first = ["ticket", "target_sparsity", "feasible", "density"]
    io.write_tsv(out / "matching.tsv", table[first + [c for c in table if c not in first]])


if __name__ == "__main__":
    rule_job.run(main, snakemake)  # noqa: F821
