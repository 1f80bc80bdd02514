#!/usr/bin/env bash
# cluster-down.sh DIR -- stops the daemons cluster-up.sh started from DIR, by their PID files
# only (TERM, then KILL after 10 s), after cancelling the cluster's jobs.
set -uo pipefail
D=$(realpath -m "${1:?usage: cluster-down.sh DIR}")
export SLURM_CONF=$D/etc/slurm.conf
scancel --full $(squeue -h -o %A 2>/dev/null) 2>/dev/null
stop() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$1"
}
stop "$D/run/slurmd.pid"
stop "$D/run/slurmctld.pid"
stop "$D/munge/munged.pid"
exit 0
