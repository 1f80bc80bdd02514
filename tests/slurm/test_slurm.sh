#!/usr/bin/env bash
# The jobscripts on a real (private, single-node) Slurm cluster: a plain job, a job array of two
# configurations, a preempted job that requeues itself and completes, and a run whose rank is
# killed with SIGKILL and then rerun. Every checkpoint must equal an uninterrupted run's. Last, the
# docs' sbatch examples (tests/docs/test_doc_commands.sh --slurm), as users type them.
. "$(dirname "$0")/../fixtures/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=$(cd "$HERE/../../jobscripts" && pwd)
CLUSTER=$(mktemp -d /tmp/rf-slurm.XXXXXX) # munge's socket path must stay short
trap '"$HERE/cluster-down.sh" "$CLUSTER"; rm -rf "$CLUSTER" "$WORK"' EXIT
# CPUs the node advertises (config_overrides): the docs' construction job asks for 8 ranks x 4
export RF_SLURM_CPUS=${RF_SLURM_CPUS:-32}
if ! "$HERE/cluster-up.sh" "$CLUSTER" 2>"$WORK/up.log"; then
    cat "$WORK/up.log" "$CLUSTER"/log/*.log 2>/dev/null | tail -20
    not_ok "a private Slurm cluster starts"
    finish
fi
export SLURM_CONF=$CLUSTER/etc/slurm.conf RIVERFORGE
cd "$WORK"

M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 2 --hidden 128 --intermediate 256 --heads 4 --kv-heads 2 \
    --head-dim 32 --vocab 64 --calib-tokens 512 >/dev/null
FLAGS=(--model "$M" --xtx "$M/xtx.h5" --num_codebooks 2 --nbits_per_codebook 6 --in_group_size 8
       --max_epochs 3 --steps_per_epoch 10 --init_max_iter 10 --progress-interval 1)
mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/reference" >/dev/null

submit() { sbatch --parsable -o "$WORK/job-%j.out" "$@"; }

# 1. a plain job
job=$(submit -N1 -n2 "$JOBS/quantize.sbatch" "${FLAGS[@]}" --out "$WORK/plain")
check "quantize.sbatch completes" "$HERE/job-wait.sh" "$job" 300
check "its checkpoint equals an mpirun run's" same_bytes "$WORK/reference/checkpoint.h5" "$WORK/plain/checkpoint.h5" 14
check "its output has progress lines and the summary table" grep -q "tasks\] .*% of work" "$WORK/job-$job.out"

# 1b. the multi-node script, on this one node with CPU ranks
job=$(submit -N1 -n2 "$JOBS/multinode.sbatch" "${FLAGS[@]}" --out "$WORK/multi")
check "multinode.sbatch (default device) completes" "$HERE/job-wait.sh" "$job" 300
check "its checkpoint equals an mpirun run's" same_bytes "$WORK/reference/checkpoint.h5" "$WORK/multi/checkpoint.h5" 14

# 2. a job array over two configurations
printf '# sweep\n--num_codebooks 1 --nbits_per_codebook 6\n\n--num_codebooks 2 --nbits_per_codebook 4\n' >"$WORK/configs.txt"
job=$(submit -N1 -n2 --array=0-1 "$JOBS/sweep-array.sbatch" "$WORK/configs.txt" \
    --model "$M" --xtx "$M/xtx.h5" --max_epochs 2 --steps_per_epoch 5 --out "$WORK/sweep")
check "sweep-array.sbatch: both elements complete" "$HERE/job-wait.sh" "$job" 300
check "one checkpoint per configuration" "$CHECK_CHECKPOINT" "$WORK/sweep/config-0/checkpoint.h5" "$M" 14 "$M/xtx.h5"
check "  (the second)" "$CHECK_CHECKPOINT" "$WORK/sweep/config-1/checkpoint.h5" "$M" 14 "$M/xtx.h5"
check "element 1 ran line 1 of the file (2 codebooks of 4 bits)" \
    sh -c "grep -q '\"num_codebooks\": 2' '$WORK/sweep/config-1/manifest.json' && grep -q '\"nbits_per_codebook\": 4' '$WORK/sweep/config-1/manifest.json'"

# 3. preemption: USR1 to the batch shell mid-run; the job stops, requeues itself, completes.
SLOW=("${FLAGS[@]}" --max_epochs 8 --steps_per_epoch 40)
mpirun_rf 2 run "${SLOW[@]}" --out "$WORK/reference-slow" >/dev/null
job=$(submit -N1 -n2 "$JOBS/quantize.sbatch" "${SLOW[@]}" --out "$WORK/preempted")
for _ in $(seq 600); do # until the first shard is committed
    [ -n "$(ls "$WORK/preempted/shards" 2>/dev/null | grep '\.h5$')" ] && break
    sleep 0.1
done
scancel --batch --signal=USR1 "$job"
check "the preempted job requeues and completes" "$HERE/job-wait.sh" "$job" 300
check "it was interrupted and requeued" grep -q "requeueing job $job" "$WORK/job-$job.out"
check "it resumed from its shards" grep -q "resuming: [0-9]* of 14 shards" "$WORK/job-$job.out"
check "its checkpoint equals an uninterrupted run's" \
    same_bytes "$WORK/reference-slow/checkpoint.h5" "$WORK/preempted/checkpoint.h5" 14

# 4. a crash: SIGKILL to one rank (not through Slurm), then a rerun
mpirun_rf 2 run "${SLOW[@]}" --out "$WORK/crashed" >"$WORK/crash.log" 2>&1 &
for _ in $(seq 600); do
    [ -n "$(ls "$WORK/crashed/shards" 2>/dev/null | grep '\.h5$')" ] && break
    sleep 0.1
done
pkill -KILL -f "riverforge run .*$WORK/crashed" -n
wait || true
check "the crash left no checkpoint" test ! -e "$WORK/crashed/checkpoint.h5"
check "the rerun completes" mpirun_rf 2 run "${SLOW[@]}" --out "$WORK/crashed"
check "its checkpoint equals an uninterrupted run's" \
    same_bytes "$WORK/reference-slow/checkpoint.h5" "$WORK/crashed/checkpoint.h5" 14

# 5. the sbatch examples of README.md and docs/*.md: each job must complete
check "the docs' sbatch examples run and their jobs complete" bash "$HERE/../docs/test_doc_commands.sh" --slurm
finish
