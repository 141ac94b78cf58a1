"""`make bench`: every benchmark in one run, then their numbers side by side.

Each benchmark runs as its own process (so memory peaks and imports do not mix) and hands
its rows back as JSON. Absolute times depend on this machine and its load; the ratios and
targets are the point. The load average before and after is printed with the table.

    .venv/bin/python bench/run_all.py [--only dag train gw memory data] [--full-dag]

The whole-DAG run uses bench/dag_reduced.yaml (the default with one seed, half the jobs) to
keep `make bench` to a few minutes; --full-dag runs the default config (`make run`).
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
    "train": ["bench/bench_train.py"],
    "gw": ["bench/bench_gw.py"],
    "memory": ["bench/bench_memory.py"],
    "data": ["bench/bench_data.py"],
}


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
    lines = [f"{'benchmark':<8} {'metric':<56} {'measured':>12} {'target':>8}  ok  context"]
    for name, rows in results.items():
        for r in rows:
            ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
            value = f"{fmt(r['value'])} {r['unit']}".strip()
            lines.append(f"{name:<8} {r['metric']:<56} {value:>12} {r['target'] or '':>8}  "
                         f"{ok:<3} {r['context']}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    p.add_argument("--full-dag", action="store_true",
                   help="whole-DAG run on the default config (default: bench/dag_reduced.yaml)")
    args = p.parse_args()
    extra = {"dag": [] if args.full_dag else ["--configfile", "bench/dag_reduced.yaml"]}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out_dir:
        results = {name: run(name, extra.get(name, []), out_dir) for name in args.only}
    print(f"\nload average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores\n")
    print(table(results))
    # a missed target is a result; only a benchmark that could not run fails `make bench`
    return 1 if any(r.get("failed") for rows in results.values() for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
