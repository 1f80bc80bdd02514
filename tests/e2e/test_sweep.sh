#!/usr/bin/env bash
# sweep as one MPI run (3 ranks) on a small synthetic model: a 3-configuration grid, each
# configuration's checkpoint byte-identical (codes, codebooks, scales) to a plain run of it with
# the same flags and verified independently; the report written; an override giving k_proj and
# v_proj their own codebook size in every configuration, recorded in the summary; SIGUSR1 in the
# middle (exit 3) and a rerun that resumes every configuration; a plain run refused on a
# configuration's folder while the sweep holds it; bad grids refused with exit 2 before anything
# is written.
. "$(dirname "$0")/../fixtures/lib.sh"
cd "$WORK"

M=$WORK/m
"$RIVERFORGE" synth --out "$M" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 >/dev/null
FLAGS=(--model "$M" --xtx "$M/xtx.h5" --num_codebooks 1 --max_epochs 2 --steps_per_epoch 4
       --init_max_iter 4 --seed 3)

check "a sweep of 3 configurations over 3 ranks" \
    mpirun_rf 3 sweep "${FLAGS[@]}" --out sw --grid "nbits_per_codebook=4,5,6"
for c in 1x4-g8 1x5-g8 1x6-g8; do
    check "$c: its checkpoint holds 7 matrices of docs/formats.md whose errors reproduce" \
        "$CHECK_CHECKPOINT" "sw/$c/checkpoint.h5" "$M" 7 "$M/xtx.h5"
done
check "a plain run of 1x5-g8 with the same flags" \
    mpirun_rf 2 run "${FLAGS[@]}" --nbits_per_codebook 5 --out plain
check "the sweep's 1x5-g8 equals the plain run byte for byte" \
    same_bytes sw/1x5-g8/checkpoint.h5 plain/checkpoint.h5 7
check "and the same configuration JSON" \
    test "$(h5dump -a /config -y sw/1x5-g8/checkpoint.h5 | grep -v HDF5)" = \
    "$(h5dump -a /config -y plain/checkpoint.h5 | grep -v HDF5)"
check "report.csv has a header and a row per configuration" test "$(wc -l <sw/report.csv)" -eq 4
check "report.md names them" grep -q '1x6-g8' sw/report.md
mpirun_rf 3 sweep "${FLAGS[@]}" --out sw --grid "nbits_per_codebook=4,5,6" >rerun.log 2>&1
check "a rerun finds all 21 shards done" grep -q "resuming: 21 of 21 shards" rerun.log

# The override, and a stop in the middle: SIGUSR1 once the first task is done.
OVR=(--out swo --grid "num_codebooks=1,2" --override 'k_proj|v_proj:nbits_per_codebook=6'
     --nbits_per_codebook 4)
# About a second per task on an idle core (the sweep must still be running after the lock check).
SLOW=(--model "$M" --xtx "$M/xtx.h5" --max_epochs 300 --steps_per_epoch 100 --init_max_iter 20
      --relative_mse_tolerance 0 --seed 3)
rc=0
mpirun_rf 3 sweep "${SLOW[@]}" "${OVR[@]}" >stop.log 2>&1 &
sweep_pid=$!
for _ in $(seq 300); do grep -q "start" swo/logs/rank-0.log 2>/dev/null && break; sleep 0.1; done
expect_error "a plain run on a configuration's folder while the sweep runs" "--out.*swo/1x4-g8" \
    mpirun_rf 1 run "${SLOW[@]}" --out swo/1x4-g8
# the stop once a shard is done, so that the rerun has something to resume
for _ in $(seq 600); do cat swo/logs/rank-*.log 2>/dev/null | grep -q "done in" && break; sleep 0.1; done
pkill -USR1 -f "riverforge sweep --model $M --xtx $M/xtx.h5 --max_epochs 300" || true
wait "$sweep_pid" || rc=$?
check "SIGUSR1 in the middle of the sweep exits 3" test "$rc" -eq 3
check "a configuration's summary says incomplete" grep -q '"complete": false' swo/1x4-g8/summary.json
check "no report yet" test ! -e swo/report.csv
check "no temporary shard is left" test -z "$(find swo -name '*.tmp')"
mpirun_rf 3 sweep "${SLOW[@]}" "${OVR[@]}" >resume.log 2>&1 || true
check "the rerun resumes" grep -q "resuming: " resume.log
check "and completes every configuration with the report" \
    test -s swo/1x4-g8/checkpoint.h5 -a -s swo/2x4-g8/checkpoint.h5 -a -s swo/report.csv
for c in 1x4-g8 2x4-g8; do
    check "$c: its checkpoint verifies independently" \
        "$CHECK_CHECKPOINT" "swo/$c/checkpoint.h5" "$M" 7 "$M/xtx.h5"
done
codebooks_k() { # codebooks_k CHECKPOINT MATRIX: K of its codebooks [M, K, og, ig]
    h5ls "$1/matrices/$2/codebooks" | sed -n 's/.*{[0-9]*, \([0-9]*\),.*/\1/p'
}
check "the override gives k_proj 2^6 codewords" \
    test "$(codebooks_k swo/2x4-g8/checkpoint.h5 model.layers.0.self_attn.k_proj)" -eq 64
check "and q_proj the grid's 2^4" \
    test "$(codebooks_k swo/2x4-g8/checkpoint.h5 model.layers.0.self_attn.q_proj)" -eq 16
check "the summary records the override" \
    grep -q '"overrides": "k_proj|v_proj:nbits_per_codebook=6"' swo/2x4-g8/summary.json

# Bad grids: refused before anything is written, naming the configuration.
expect_error "a group size that does not divide a matrix" "configuration 1x4-g24: .*in_group_size 24" \
    mpirun_rf 3 sweep "${FLAGS[@]}" --out bad --nbits_per_codebook 4 --grid "in_group_size=8,24"
check "nothing written for it" test ! -e bad
expect_error "nbits over 16" "nbits_per_codebook" \
    mpirun_rf 3 sweep "${FLAGS[@]}" --out bad --grid "nbits_per_codebook=8,17"
check "nothing written for it either" test ! -e bad
finish
