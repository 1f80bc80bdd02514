#!/usr/bin/env bash
# End to end over real MPI ranks: synth -> run with 1 and 4 ranks -> the checkpoints' codes,
# codebooks and scales are byte-identical; the checkpoint verifies independently
# (check_checkpoint); resume, --only, inspect, dequantize, the embedded default.
. "$(dirname "$0")/../fixtures/lib.sh"

M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 2 --hidden 128 --intermediate 256 --heads 4 --kv-heads 2 \
    --head-dim 32 --vocab 64 --shards 2 --calib-tokens 512 >/dev/null
check "synth writes a sharded model with its index" test -s "$M/model.safetensors.index.json"

FLAGS=(--model "$M" --xtx "$M/xtx.h5" --num_codebooks 2 --nbits_per_codebook 6 --in_group_size 8
       --beam_size 2 --max_epochs 3 --steps_per_epoch 10 --init_max_iter 10 --seed 7
       --progress-interval 0.5)
check "run with 1 rank" mpirun_rf 1 run "${FLAGS[@]}" --out "$WORK/np1"
check "run with 4 ranks" mpirun_rf 4 run "${FLAGS[@]}" --out "$WORK/np4"

check "1 and 4 ranks give byte-identical codes, codebooks and scales" \
    same_bytes "$WORK/np1/checkpoint.h5" "$WORK/np4/checkpoint.h5" 14
check "the checkpoint holds all 14 matrices, the dtypes and shapes of docs/formats.md, errors reproduce" \
    "$CHECK_CHECKPOINT" "$WORK/np4/checkpoint.h5" "$M" 14 "$M/xtx.h5"
check "summary.json lists 14 tasks" grep -c '"name": "model.layers' "$WORK/np4/summary.json"
check "summary.csv has a header and 14 rows" test "$(wc -l <"$WORK/np4/summary.csv")" -eq 15
check "one log per rank" test -s "$WORK/np4/logs/rank-0.log" -a -s "$WORK/np4/logs/rank-3.log"
check "14 shards committed, no temporary files left" \
    test "$(ls "$WORK/np4/shards" | grep -c '\.h5$')" -eq 14 -a -z "$(ls "$WORK/np4/shards" | grep tmp || true)"

# Resume: a rerun finds every shard done and assembles the same checkpoint.
mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/np4" >"$WORK/rerun.log" 2>&1
check "a rerun resumes from the 14 shards" grep -q "resuming: 14 of 14 shards" "$WORK/rerun.log"
check "the resumed checkpoint equals the first" same_bytes "$WORK/np1/checkpoint.h5" "$WORK/np4/checkpoint.h5" 14
check "the resumed summary keeps each shard's stats (rank -1)" \
    test "$(awk -F, 'NR > 1 && $10 == -1 && $4 > 0' "$WORK/np4/summary.csv" | wc -l)" -eq 14

# A damaged shard is recomputed with a warning naming it.
S=$WORK/np4/shards/model.layers.1.mlp.down_proj.h5
truncate -s 1000 "$S"
mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/np4" >"$WORK/rerun2.log" 2>&1
check "a damaged shard is recomputed with a warning naming it" \
    grep -q "recomputing shard .*model.layers.1.mlp.down_proj.h5" "$WORK/rerun2.log"
check "and the checkpoint is again identical" same_bytes "$WORK/np1/checkpoint.h5" "$WORK/np4/checkpoint.h5" 14

mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/only" --only 'layers\.1\..*down_proj' >/dev/null
expect_error "an --out with shards of another configuration is refused" \
    "holds shards of another configuration \\(nbits_per_codebook 6 there, 5 here\\)" \
    mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/np4" --nbits_per_codebook 5
check "--only narrows the run to one matrix" "$CHECK_CHECKPOINT" "$WORK/only/checkpoint.h5" "$M" 1 "$M/xtx.h5"

"$RIVERFORGE" inspect "$WORK/np4/checkpoint.h5" >"$WORK/inspect.txt"
check "inspect prints one row per matrix" test "$(grep -c '^model.layers' "$WORK/inspect.txt")" -eq 14
"$RIVERFORGE" dequantize --checkpoint "$WORK/np4/checkpoint.h5" --out "$WORK/dense" >/dev/null
check "dequantize writes dense safetensors with an index of 14 tensors" \
    test "$(grep -c '"model.layers' "$WORK/dense/model.safetensors.index.json")" -eq 14
"$RIVERFORGE" plan --model "$M" --ranks 3 --num_codebooks 2 --nbits_per_codebook 6 >"$WORK/plan.txt"
check "plan lists 14 tasks and 3 ranks" sh -c "grep -c '^rank' '$WORK/plan.txt' | grep -qx 3"
check "plan measures the sgemm rate, the scoring loop's for these codewords and the Adam step's" grep -qE \
    '^this machine, on [0-9]+ threads?.*: sgemm \([0-9]+\^3\) [0-9.]+ GFLOP/s; the scoring loop \(SIMD path [a-z0-9]+, 64 codewords of 8\) [0-9.]+ GFLOP/s for k-means \(top 1\), [0-9.]+ GFLOP/s for the beam search \(top 1\); the Adam steps [0-9.]+ GFLOP/s' \
    "$WORK/plan.txt"

# A model with a vision tower: SigLIP-named tensors in the files, vision_config in config.json;
# the run quantizes the language model's 7 matrices only.
"$RIVERFORGE" synth --out "$WORK/vlm" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 --vit-blocks 3 --vit-hidden 48 --vit-mlp 96 >/dev/null
check "synth --vit-blocks writes vision_config" grep -q '"model_type": "siglip_vision_model"' "$WORK/vlm/config.json"
check "and the SigLIP tensors of block 2" grep -aq 'vision_model.encoder.layers.2.mlp.fc2.weight' "$WORK/vlm/model.safetensors"
mpirun_rf 1 run --model "$WORK/vlm" --out "$WORK/vlm-out" --max_epochs 1 --steps_per_epoch 2 \
    --num_codebooks 1 --nbits_per_codebook 4 >/dev/null
check "a run on it quantizes the 7 language-model matrices" "$CHECK_CHECKPOINT" "$WORK/vlm-out/checkpoint.h5" "$WORK/vlm" 7

# The embedded default, as the README's quick start runs it (shortened training).
check "the embedded default model runs" mpirun_rf 2 run --out "$WORK/default" --max_epochs 1 --steps_per_epoch 2
check "and its checkpoint verifies" "$CHECK_CHECKPOINT" "$WORK/default/checkpoint.h5" \
    "$WORK/default/default-model" 14 "$WORK/default/default-model/xtx.h5"
finish
