#!/usr/bin/env bash
# Block sharing end to end over real MPI ranks: synth a VLM -> run --vit-share with qgp,
# paramgen and none -> every shared matrix has its generated weight under /vit, no worse than
# plain sharing, with errors that reproduce (check_checkpoint); 1 and 3 ranks, 1 and 2 threads
# give identical weights; resume; a stop signal mid-training; inspect, dequantize, summary; bad flags.
. "$(dirname "$0")/../fixtures/lib.sh"

M=$WORK/vlm
"$RIVERFORGE" synth --out "$M" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 --vit-blocks 4 --vit-hidden 32 --vit-mlp 64 >/dev/null
AQLM=(--num_codebooks 1 --nbits_per_codebook 4 --max_epochs 1 --steps_per_epoch 2 --init_max_iter 5)
QGP=(--model "$M" "${AQLM[@]}" --vit-share 1:2,1:3 --vit-generator qgp --gen-steps 60 --seed 3)

check "qgp run with 1 rank" mpirun_rf 1 run "${QGP[@]}" --out "$WORK/np1"
check "qgp run with 3 ranks" mpirun_rf 3 run "${QGP[@]}" --out "$WORK/np3"
check "7 matrices and 12 generated ViT matrices verify; errors reproduce; none worse than sharing" \
    "$CHECK_CHECKPOINT" "$WORK/np3/checkpoint.h5" "$M" 7
check "the checkpoint has 12 /vit entries" \
    test "$(h5ls "$WORK/np3/checkpoint.h5/vit" | wc -l)" -eq 12
same_vit() { # same_vit A.h5 B.h5: every /vit weight identical
    local name
    for name in $(h5ls "$1/vit" | awk '{print $1}'); do
        h5diff "$1" "$2" "/vit/$name/weight" "/vit/$name/weight" || return 1
    done
}
check "1 and 3 ranks give identical generated weights" same_vit "$WORK/np1/checkpoint.h5" "$WORK/np3/checkpoint.h5"
OMP_NUM_THREADS=2 mpirun_rf 1 run "${QGP[@]}" --only vision --out "$WORK/threads2" >/dev/null
check "and so do 2 threads per rank" same_vit "$WORK/np1/checkpoint.h5" "$WORK/threads2/checkpoint.h5"
check "qgp beats plain sharing on all 12 (summary.json)" \
    test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["vit"]["beats_sharing"])' "$WORK/np3/summary.json")" -eq 12
check "summary.json reports the classical baseline for every shared matrix" \
    test "$(grep -c '"baseline_rel_w_err"' "$WORK/np3/summary.json")" -eq 12
check "summary.csv has 19 rows" test "$(wc -l <"$WORK/np3/summary.csv")" -eq 20

mpirun_rf 2 run "${QGP[@]}" --out "$WORK/np3" >"$WORK/rerun.log" 2>&1
check "a rerun resumes from the 19 shards" grep -q "resuming: 19 of 19 shards" "$WORK/rerun.log"
check "and its generated weights are the same" same_vit "$WORK/np1/checkpoint.h5" "$WORK/np3/checkpoint.h5"

expect_error "an --out of another generator setting is refused, naming it" \
    "another configuration \(vit_generator.steps 60 there, 61 here\)" \
    mpirun_rf 1 run "${QGP[@]}" --out "$WORK/np3" --gen-steps 61

"$RIVERFORGE" inspect "$WORK/np3/checkpoint.h5" >"$WORK/inspect.txt"
check "inspect lists the 12 generated matrices with what they reuse" \
    test "$(grep -c 'reuses vision_model.encoder.layers.1\.' "$WORK/inspect.txt")" -eq 12
"$RIVERFORGE" dequantize --checkpoint "$WORK/np3/checkpoint.h5" --out "$WORK/dense" >/dev/null
check "dequantize writes the 7 matrices and the 12 generated ones" \
    test "$(grep -c '"\(model\|vision_model\).*weight"' "$WORK/dense/model.safetensors.index.json")" -eq 19

# InternViT names, the paramgen generator with noise, only the vision tasks.
"$RIVERFORGE" synth --out "$WORK/ivit" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 --vit-blocks 2 --vit-hidden 32 --vit-mlp 64 \
    --vit-names internvit >/dev/null
check "paramgen on InternViT names" mpirun_rf 2 run --model "$WORK/ivit" --out "$WORK/pg" --only vision \
    --vit-share 0:1 --vit-generator paramgen --gen-steps 40 --gen-width 32 --gen-rank 2 --gen-noise 0.1
check "its 4 generated matrices (attn.qkv, attn.proj, mlp.fc1, mlp.fc2) verify" \
    "$CHECK_CHECKPOINT" "$WORK/pg/checkpoint.h5" "$WORK/ivit" 0
check "attn.qkv is among them" h5ls "$WORK/pg/checkpoint.h5/vit/vision_model.encoder.layers.1.attn.qkv"

check "none: plain sharing" mpirun_rf 2 run --model "$M" --out "$WORK/none" --only vision \
    --vit-share 0:3 --vit-generator none
check "its weights are block 0's (check_checkpoint)" "$CHECK_CHECKPOINT" "$WORK/none/checkpoint.h5" "$M" 0

# A stop signal mid-training: the run exits 3 with nothing half-written, a rerun completes.
STOP=(--model "$M" --out "$WORK/stop" --only 'layers\.2\.mlp\.fc1' --vit-share 1:2 --gen-steps 20000)
rc=0
mpirun_rf 1 run "${STOP[@]}" >"$WORK/stop.log" 2>&1 &
run_pid=$!
for _ in $(seq 50); do grep -q "start" "$WORK/stop/logs/rank-0.log" 2>/dev/null && break; sleep 0.2; done
pkill -USR1 -f "riverforge run --model $M --out $WORK/stop" || true
wait "$run_pid" || rc=$?
check "SIGUSR1 during generator training exits 3" test "$rc" -eq 3
check "the summary says incomplete" grep -q '"complete": false' "$WORK/stop/summary.json"
check "no checkpoint and no temporary file is left" \
    test ! -e "$WORK/stop/checkpoint.h5" -a -z "$(ls "$WORK/stop/shards" | grep tmp || true)"
check "a rerun completes" mpirun_rf 1 run "${STOP[@]}"

"$RIVERFORGE" synth --out "$WORK/llm" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 >/dev/null
expect_error "--vit-share on a model without a vision tower" "the model has no vision-tower matrices" \
    mpirun_rf 1 run --model "$WORK/llm" --out "$WORK/bad1" "${AQLM[@]}" --vit-share 0:1
expect_error "--vit-share of a block the tower lacks" "the vision tower has no block 9 \\(blocks 0..3\\)" \
    mpirun_rf 1 run --model "$M" --out "$WORK/bad2" "${AQLM[@]}" --vit-share 1:9
expect_error "an unknown generator" "--vit-generator 'quantum': expected qgp, paramgen or none" \
    mpirun_rf 1 run --model "$M" --out "$WORK/bad3" --vit-share 1:2 --vit-generator quantum
expect_error "a chained share" "block 2 is both shared and a source" \
    mpirun_rf 1 run --model "$M" --out "$WORK/bad4" --vit-share 1:2,2:3
expect_error "a bad paramgen rank" "--gen-rank 0 is outside" \
    mpirun_rf 1 run --model "$M" --out "$WORK/bad5" "${AQLM[@]}" --vit-share 1:2 --vit-generator paramgen --gen-rank 0
expect_error "a generator flag without --vit-share" "--gen-steps needs --vit-share A:B" \
    mpirun_rf 1 run --model "$M" --out "$WORK/bad6" "${AQLM[@]}" --gen-steps 5
finish
