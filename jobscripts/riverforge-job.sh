# riverforge-job.sh -- sourced by the sbatch scripts beside it: finds the riverforge binary and
# runs a command so that preemption works.
#
# Slurm's --signal=B:USR1@T signals the batch shell only, and bash runs a trap only between
# commands, so the work runs as `cmd & wait`. The trap forwards the signal to the tasks of the
# job's steps (scancel --signal without --batch); riverforge then stops taking tasks,
# commits the one in flight and exits 3 (interrupted). The script then requeues the job; the
# rerun resumes from the committed shards.

# The binary: $RIVERFORGE, else the build folder of the checkout the job was submitted from,
# else riverforge on PATH.
rf_find_binary() {
    if [ -n "${RIVERFORGE:-}" ]; then echo "$RIVERFORGE"; return; fi
    local b
    for b in "${SLURM_SUBMIT_DIR:-.}/build/mpi/riverforge" "$(command -v riverforge || true)"; do
        [ -n "$b" ] && [ -x "$b" ] && { echo "$b"; return; }
    done
    echo "riverforge-job: no riverforge binary: set RIVERFORGE, or build in $SLURM_SUBMIT_DIR/build" >&2
    exit 2
}

# rf_run_requeueable CMD...: runs CMD in the background, forwards USR1/TERM to the job's tasks,
# requeues the job when CMD exits 3 (interrupted). Exits with CMD's status.
rf_run_requeueable() {
    "$@" &
    local pid=$! rc
    trap 'echo "riverforge-job: caught a stop signal, forwarding it to the job steps"; scancel --signal=USR1 "$SLURM_JOB_ID"' USR1 TERM
    wait "$pid"
    rc=$?
    while kill -0 "$pid" 2>/dev/null; do # wait returns early when a trapped signal arrives
        wait "$pid"
        rc=$?
    done
    trap - USR1 TERM
    if [ "$rc" -eq 3 ]; then
        echo "riverforge-job: run interrupted; requeueing job $SLURM_JOB_ID"
        scontrol requeue "$SLURM_JOB_ID"
    fi
    exit "$rc"
}
