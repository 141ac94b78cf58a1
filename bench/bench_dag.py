"""Whole-DAG benchmark: `make run`'s command in a fresh directory, then a no-op dry run.

Runs `snakemake --workflow-profile profiles/default --cores N` (the default config unless
--configfile is given) in an empty directory and reports
  wall      seconds from start to finish, all jobs included;
  packing   sum of the jobs' cpu_time from their benchmark files / (wall x cores);
  occupancy sum of the jobs' wall seconds (benchmark `s`) / (wall x cores);
  exact     the same with every job's full CPU time: user+system of snakemake and all jobs
            (getrusage of the children) minus snakemake's own process (sampled until exit).
Snakemake samples a job's cpu_time every 0.5 s for the first 15 s, then every 30 s, so the
last part of each job is missing from `packing` (under heavy load, most of a long job).
The CPU other processes used meanwhile (/proc/stat minus this run) is reported too: on a
shared machine it is capacity the run could not have, so wall and packing are given with it.
Then `snakemake -n` on the finished results is timed (median of 3).

    .venv/bin/python bench/bench_dag.py [--cores 2] [--configfile reduced.yaml] [--keep DIR]
"""

import csv
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import REPO, VENV_BIN, emit, parser, row


def command(workdir, cores, configfiles, *extra):
    cmd = [str(VENV_BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--directory",
           str(workdir), "--workflow-profile", str(REPO / "profiles" / "default"),
           "--cores", str(cores), *extra]
    # the Snakefile's configfile is relative to the working directory: name it explicitly
    return cmd + ["--configfile", str(REPO / "config" / "config.yaml"), *map(str, configfiles)]


def machine_busy():
    """CPU seconds all processes of this machine have used since boot (/proc/stat)."""
    with open("/proc/stat") as fh:
        ticks = [int(t) for t in fh.readline().split()[1:9]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def benchmark_records(workdir):
    """{benchmark file: {"rule", "s", "cpu_time"}} from every benchmark TSV of the run."""
    records = {}
    for path in sorted((Path(workdir) / "benchmarks").rglob("*.tsv")):
        with open(path) as fh:
            rec = next(csv.DictReader(fh, delimiter="\t"))
        cpu = rec["cpu_time"]
        records[path] = {"s": float(rec["s"]), "cpu_time": float(cpu) if cpu != "NA" else 0.0}
    return records


def rules_of_benchmarks(log_text, workdir):
    """{benchmark file: rule name} of every job in Snakemake's log (its job headers name the
    rule, then list the job's benchmark file)."""
    rules, rule = {}, None
    for line in log_text.splitlines():
        header = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):$", line)
        if header:
            rule = header.group(1)
        elif rule and line.strip().startswith("benchmark: "):
            rules[Path(workdir) / line.split(": ", 1)[1].strip()] = rule
    return rules


def run_dag(workdir, cores, configfiles):
    """(wall, CPU of snakemake and all jobs, CPU of snakemake's own process, CPU of every
    other process on the machine during the run, jobs, snakemake's log)."""
    import psutil

    log = Path(workdir) / "snakemake.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cpu0, busy0, t0 = children_cpu(), machine_busy(), time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(command(workdir, cores, configfiles), stdout=out,
                                stderr=subprocess.STDOUT)
        watched, own = psutil.Process(proc.pid), 0.0
        while proc.poll() is None:  # snakemake's own CPU, sampled until it exits
            try:
                times = watched.cpu_times()
                own = times.user + times.system
            except psutil.NoSuchProcess:
                break
            time.sleep(0.2)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    others = max(0.0, machine_busy() - busy0 - cpu)
    text = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"the workflow failed (log {log}):\n{text[-3000:]}")
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", text)
    return wall, cpu, own, others, int(done[-1][1]) if done else None, text


def time_noop(workdir, cores, configfiles, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(command(workdir, cores, configfiles, "-n"), capture_output=True,
                              text=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0 or "Nothing to be done" not in proc.stdout + proc.stderr:
            raise SystemExit(f"dry run on finished results planned work:\n{proc.stdout[-2000:]}")
    return statistics.median(times)


def measure(cores, configfiles, workdir):
    wall, total_cpu, own_cpu, others, jobs, text = run_dag(workdir, cores, configfiles)
    records = benchmark_records(workdir)
    rules = rules_of_benchmarks(text, workdir)
    job_cpu = sum(r["cpu_time"] for r in records.values())
    job_wall = sum(r["s"] for r in records.values())
    per_rule = defaultdict(lambda: [0, 0.0, 0.0])
    for path, r in records.items():
        agg = per_rule[rules.get(path, "?")]
        agg[0] += 1
        agg[1] += r["s"]
        agg[2] += r["cpu_time"]
    print(f"{'rule':<20}{'jobs':>5}{'mean s':>9}{'mean cpu':>10}{'sum cpu':>9}")
    for name, (n, s, c) in sorted(per_rule.items(), key=lambda kv: -kv[1][2]):
        print(f"{name:<20}{n:>5}{s / n:>9.2f}{c / n:>10.2f}{c:>9.1f}")
    noop = time_noop(workdir, cores, configfiles)
    which = "default config" if not configfiles else "+".join(Path(c).name for c in configfiles)
    ctx = f"{which}, {jobs} jobs, {len(records)} benchmark files, {cores} cores"
    capacity = wall * cores
    return [
        row("whole DAG wall time", wall, "s", "<= 300", wall <= 300, ctx),
        row("packing efficiency (benchmark cpu_time)", job_cpu / capacity, "", ">= 0.8",
            job_cpu / capacity >= 0.8, f"sum cpu_time {job_cpu:.0f} s"),
        row("occupancy (benchmark job seconds)", job_wall / capacity, "", None, None,
            f"sum job s {job_wall:.0f} s"),
        row("packing efficiency (exact job CPU)", (total_cpu - own_cpu) / capacity, "", None,
            None, f"{total_cpu - own_cpu:.0f} s: all CPU minus snakemake's {own_cpu:.0f} s"),
        row("CPU taken by other processes during the run", others / capacity, "of capacity",
            None, None, f"{others:.0f} s of {capacity:.0f} core-seconds"),
        row("packing efficiency on the capacity left (exact job CPU)",
            (total_cpu - own_cpu) / max(capacity - others, 1e-9), "", None, None,
            "job CPU / (wall x cores - other processes' CPU)"),
        row("no-op dry run on finished results", noop, "s", "<= 5", noop <= 5, which),
    ]


def main():
    p = parser(__doc__)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--configfile", nargs="*", default=[], help="config files over the default")
    p.add_argument("--keep", help="run in this (empty or new) directory and keep it")
    args = p.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="dilt-bench-dag-"))
    configfiles = [Path(c).resolve() for c in args.configfile]
    try:
        rows = measure(args.cores, configfiles, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    emit(rows, args.json)


if __name__ == "__main__":
    main()
