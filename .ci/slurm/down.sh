#!/usr/bin/env bash
# Stop the daemons started by up.sh (reverse order). State and logs stay for inspection.
set -euo pipefail
RUN=/run/slurm-ci

stop() {  # stop NAME PIDFILE: only if the pid file names a running NAME
  local pid
  [[ -s $2 ]] && pid=$(cat "$2") && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] || return 0
  echo "slurm-ci: stopping $1"
  kill "$pid"
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
}
stop slurmd "$RUN/slurmd.pid"
stop slurmctld "$RUN/slurmctld.pid"
stop slurmdbd "$RUN/slurmdbd.pid"
stop mariadbd "$RUN/mysql/mysqld.pid"
stop munged /run/munge/munged.pid
