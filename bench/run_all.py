"""`make bench`: the scale benchmarks in one run, then their numbers side by side.

By default (`make bench`, under 15 minutes on 2 idle cores): the whole DAG of `make run` on
the default config and its no-op dry run (dag), the GW engine on a ResNet-50 K=2 joint
matrix (gw) and data throughput per core, ImageFolder + PIL against the prepared format
(data). The training-loop and memory benchmarks (train, memory: the latter alone takes
longer than the budget) run with --only. Each benchmark runs as its own process (so memory
peaks and imports do not mix) and hands its rows back as JSON. Absolute times depend on
this machine and its load; the load average before and after is printed with the table.

    .venv/bin/python bench/run_all.py [--only dag gw data train memory] [--reduced-dag]

--reduced-dag runs bench/dag_reduced.yaml (the default with one seed, half the jobs).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, fmt, row

BENCHES = {
    "dag": ["bench/bench_dag.py"],
    "gw": ["bench/bench_gw.py"],
    "data": ["bench/bench_data.py"],
    "train": ["bench/bench_train.py"],
    "memory": ["bench/bench_memory.py"],
}
DEFAULT = ["dag", "gw", "data"]
BUDGET = 900  # seconds: `make bench` on 2 cores


def run(name, extra, out_dir):
    path = Path(out_dir) / f"{name}.json"
    cmd = [sys.executable, *BENCHES[name], *extra, "--json", str(path)]
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    print(proc.stdout, end="", flush=True)
    rows = json.loads(path.read_text()) if path.exists() else []
    if proc.returncode != 0 or not rows:
        return [{**row(f"{name} benchmark failed (exit {proc.returncode})", "-", "", ok=False),
                 "failed": True}]
    print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    return rows


def table(results):
    lines = [f"{'benchmark':<9} {'metric':<56} {'measured':>16} {'target':>8}  ok  context"]
    for name, rows in results.items():
        for r in rows:
            ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
            value = f"{fmt(r['value'])} {r['unit']}".strip()
            lines.append(f"{name:<9} {r['metric']:<56} {value:>16} {r['target'] or '':>8}  "
                         f"{ok:<3} {r['context']}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(BENCHES), default=DEFAULT)
    p.add_argument("--reduced-dag", action="store_true",
                   help="whole-DAG run on bench/dag_reduced.yaml (default: the default config)")
    args = p.parse_args()
    extra = {"dag": ["--configfile", "bench/dag_reduced.yaml"] if args.reduced_dag else []}
    load, t0 = os.getloadavg()[0], time.perf_counter()
    with tempfile.TemporaryDirectory() as out_dir:
        results = {name: run(name, extra.get(name, []), out_dir) for name in args.only}
    total = time.perf_counter() - t0
    results["all"] = [row("benchmarks' wall time", total, "s", f"<= {BUDGET}",
                          total <= BUDGET if args.only == DEFAULT else None,
                          f"{' + '.join(args.only)}; the budget is for the default set")]
    print(f"\nload average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores\n")
    print(table(results))
    # a missed target is a result; only a benchmark that could not run fails `make bench`
    return 1 if any(r.get("failed") for rows in results.values() for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
