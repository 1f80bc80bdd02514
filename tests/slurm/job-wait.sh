#!/usr/bin/env bash
# job-wait.sh JOBID [TIMEOUT] -- waits until job JOBID (every element of an array) has left the
# queue, prints "JOBID STATE EXITCODE RESTARTS" per job, exits 0 only when all COMPLETED 0:0.
# (sbatch --wait polls with a back-off of up to ~10 s; this polls every 0.5 s.) Needs SLURM_CONF.
set -uo pipefail
id=$1
end=$((SECONDS + ${2:-300}))
while [ -n "$(squeue -h -j "$id" -o %A 2>/dev/null)" ]; do
    [ $SECONDS -lt $end ] || { echo "job-wait: job $id still queued after ${2:-300} s" >&2; exit 124; }
    sleep 0.5
done
out=$(scontrol show job -o "$id" | awk '{
    for (i = 1; i <= NF; i++) { n = index($i, "="); f[substr($i, 1, n - 1)] = substr($i, n + 1) }
    id = f["ArrayTaskId"] != "" ? f["ArrayJobId"] "_" f["ArrayTaskId"] : f["JobId"]
    print id, f["JobState"], f["ExitCode"], f["Restarts"]; delete f }')
echo "$out"
[ -n "$out" ] && ! echo "$out" | grep -qv ' COMPLETED 0:0 '
