#!/usr/bin/env bash
# riverforge calibrate and eval on a synthetic Qwen3 under mpirun: calibrate's xtx.h5 is the same
# bytes on 1 and 3 ranks (and with --seed's random windows on 1 and 2), `plan --calibrate` predicts
# the memory calibrate predicts, `run` takes it as it is,
# eval of the checkpoint reports the quantized perplexity (same figures on 1 and 2 ranks), a
# calibration stopped by SIGUSR1 once layer 1 is written exits 3, keeps its finished layers and
# resumes on another rank count to the same bytes as an uninterrupted run (a changed token file
# refused on resume), and bad
# input (token ids >= vocab_size, a size not a multiple of 4, fewer tokens than one sequence, no
# config.json, an unsupported rope_scaling, flags) exits 2 with one line and writes nothing.
# (check_decoder.py in tests/python checks the figures themselves against transformers.)
. "$(dirname "$0")/../fixtures/lib.sh"

# tokens FILE N [BAD_POS]: N little-endian uint32 ids below 100 (id 100 at BAD_POS)
tokens() {
    local i id
    for ((i = 0; i < $2; i++)); do
        id=$(((i * 37 + i / 7) % 100))
        [ "$i" = "${3:-}" ] && id=100
        printf "\\x$(printf %02x "$id")\\x00\\x00\\x00"
    done >"$1"
}

M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 \
    --head-dim 16 --vocab 100 >/dev/null
T=$WORK/tokens.bin
tokens "$T" 1000
check "calibrate -np 1" mpirun_rf 1 calibrate --model "$M" --tokens "$T" --seqlen 64 --out "$WORK/x1.h5"
check "calibrate -np 3" mpirun_rf 3 calibrate --model "$M" --tokens "$T" --seqlen 64 --out "$WORK/x3.h5"
cp "$WORK/check.log" "$WORK/calibrate3.log"
check "plan --calibrate prints the memory calibrate -np 3 predicted" bash -c "
    want=\$(grep -o 'per rank [0-9.e-]* GiB (rank 0 [0-9.e-]* GiB)' '$WORK/calibrate3.log') &&
    '$RIVERFORGE' plan --model '$M' --calibrate 15 --seqlen 64 --ranks 3 | tee /dev/stderr |
        grep -qF \"\$want\""
check "-np 1 and -np 3 write the same bytes" cmp "$WORK/x1.h5" "$WORK/x3.h5"
check "14 datasets, q/k/v hard links" bash -c "h5ls -r '$WORK/x1.h5' | grep -c 'same as' | grep -qx 6"
check "calibrate --seed -np 1" mpirun_rf 1 calibrate --model "$M" --tokens "$T" --seqlen 32 \
    --nsamples 5 --seed 7 --out "$WORK/s1.h5"
check "calibrate --seed -np 2" mpirun_rf 2 calibrate --model "$M" --tokens "$T" --seqlen 32 \
    --nsamples 5 --seed 7 --out "$WORK/s2.h5"
check "random windows: the same bytes on 1 and 2 ranks" cmp "$WORK/s1.h5" "$WORK/s2.h5"
check "random windows differ from the first windows" bash -c "! h5diff -q '$WORK/s1.h5' '$WORK/x1.h5'"

check "run --xtx takes calibrate's file" mpirun_rf 2 run --model "$M" --xtx "$WORK/x1.h5" \
    --out "$WORK/out" --num_codebooks 1 --nbits_per_codebook 8 --in_group_size 8 --max_epochs 2 \
    --steps_per_epoch 2 --init_max_iter 2
for np in 1 2; do
    mpirun_rf $np eval --model "$M" --tokens "$T" --seqlen 64 --checkpoint "$WORK/out/checkpoint.h5" \
        --json >"$WORK/eval$np.json" 2>"$WORK/eval$np.err" || true
done
check "eval --checkpoint: dense and quantized figures, 14 matrices" python3 -c '
import json, math, sys
e = json.load(open(sys.argv[1])); q = e["quantized"]
assert e["sequences"] == 15 and e["tokens"] == 945 and e["perplexity"] > 1
assert abs(math.exp(e["nll"]) - e["perplexity"]) < 1e-9 * e["perplexity"]
assert q["matrices"] == 14 and q["perplexity"] > 1
assert abs(q["ratio"] - q["perplexity"] / e["perplexity"]) < 1e-9' "$WORK/eval1.json"
check "eval: the same figures on 1 and 2 ranks" cmp "$WORK/eval1.json" "$WORK/eval2.json"
check "eval prints the ratio" bash -c "'$RIVERFORGE' eval --model '$M' --tokens '$T' --seqlen 64 \
    --checkpoint '$WORK/out/checkpoint.h5' | grep -E 'quantized +perplexity .* ratio [0-9.]+'"

# Stop and resume: SIGUSR1 once the log shows layer 1 written; the ranks stop after the layer in
# flight, exit 3, and leave whole layers in OUT.partial and no OUT.
M6=$WORK/model6
"$RIVERFORGE" synth --out "$M6" --layers 6 --hidden 128 --intermediate 256 --heads 4 --kv-heads 2 \
    --head-dim 32 --vocab 100 >/dev/null
T6=$WORK/tokens6.bin
tokens "$T6" 12800
C6=(calibrate --model "$M6" --tokens "$T6" --seqlen 64)
check "uninterrupted calibration, 6 layers" mpirun_rf 2 "${C6[@]}" --out "$WORK/full.h5"
rc=0
mpirun_rf 2 "${C6[@]}" --out "$WORK/stop.h5" 2>"$WORK/stop.log" &
calib_pid=$!
for _ in $(seq 1200); do grep -q "layer 1/6 done" "$WORK/stop.log" && break; sleep 0.05; done
pkill -USR1 -f "riverforge calibrate --model $M6 --tokens $T6 --seqlen 64 --out $WORK/stop.h5" || true
wait "$calib_pid" || rc=$?
check "SIGUSR1 after layer 1 exits 3" test "$rc" -eq 3
check "the stop leaves finished layers and no OUT" bash -c "n=\$(ls '$WORK'/stop.h5.partial/layer-*.h5 | wc -l)
    [ \$n -ge 1 ] && [ \$n -lt 6 ] && [ ! -e '$WORK/stop.h5' ] && grep -q 'rerun with the same flags' '$WORK/stop.log'"
cp "$T6" "$T6.changed" && printf '\x07' | dd of="$T6.changed" bs=1 seek=400 conv=notrunc 2>/dev/null
expect_error "a changed token file refused on resume" "stop.h5.partial holds an interrupted calibration of other inputs: tokens_fingerprint" \
    mpirun_rf 2 calibrate --model "$M6" --tokens "$T6.changed" --seqlen 64 --out "$WORK/stop.h5"
check "resume on 3 ranks" bash -c "mpirun -np 3 --oversubscribe --bind-to none -x OMP_NUM_THREADS \
    '$RIVERFORGE' ${C6[*]} --out '$WORK/stop.h5' 2>'$WORK/resume.log' && grep -q 'resuming at layer [2-6]/6' '$WORK/resume.log' && grep -q 'recomputed (resumed)' '$WORK/resume.log'"
check "resumed and uninterrupted runs write the same bytes" cmp "$WORK/full.h5" "$WORK/stop.h5"
check "the partial folder is gone" test ! -e "$WORK/stop.h5.partial"

# Bad input: exit 2, one line naming the file, no output left.
tokens "$WORK/bad-id.bin" 200 123
expect_error "token id >= vocab_size" "bad-id.bin: token 100 at position 123 is not below the model's vocab_size 100" \
    "$RIVERFORGE" calibrate --model "$M" --tokens "$WORK/bad-id.bin" --seqlen 64 --out "$WORK/bad1.h5"
head -c 401 "$T" >"$WORK/odd.bin"
expect_error "size not a multiple of 4" "odd.bin: size 401 is not a multiple of 4" \
    mpirun_rf 2 eval --model "$M" --tokens "$WORK/odd.bin" --seqlen 64
expect_error "fewer tokens than one sequence" "tokens.bin: 1000 tokens, fewer than one sequence of 2048 \\(--seqlen\\)" \
    "$RIVERFORGE" calibrate --model "$M" --tokens "$T" --seqlen 2048 --out "$WORK/bad2.h5"
mkdir -p "$WORK/noconfig" && cp "$M/model.safetensors" "$WORK/noconfig/"
expect_error "model without config.json" "noconfig/config.json: cannot open" \
    mpirun_rf 2 calibrate --model "$WORK/noconfig" --tokens "$T" --seqlen 64 --out "$WORK/bad3.h5"
expect_error "plan --calibrate, model without config.json" "noconfig/config.json: cannot open" \
    "$RIVERFORGE" plan --model "$WORK/noconfig" --calibrate 4 --seqlen 64
mkdir -p "$WORK/yarn" && cp "$M/model.safetensors" "$WORK/yarn/"
sed 's/"rope_theta"/"rope_scaling": {"rope_type": "yarn", "factor": 4.0}, "rope_theta"/' \
    "$M/config.json" >"$WORK/yarn/config.json"
expect_error "unsupported rope_scaling" "rope_scaling.rope_type 'yarn' is not supported" \
    "$RIVERFORGE" eval --model "$WORK/yarn" --tokens "$T" --seqlen 64
sed 's/"qwen3"/"gemma2"/' "$M/config.json" >"$WORK/yarn/config.json"
expect_error "unknown model_type" "model_type 'gemma2' is not a decoder riverforge runs" \
    "$RIVERFORGE" eval --model "$WORK/yarn" --tokens "$T" --seqlen 64
expect_error "--seed without --nsamples" "--seed needs --nsamples" \
    "$RIVERFORGE" calibrate --model "$M" --tokens "$T" --seed 3 --out "$WORK/bad4.h5"
expect_error "--nsamples beyond the file's windows" "--nsamples 20: .* holds 15 windows" \
    "$RIVERFORGE" calibrate --model "$M" --tokens "$T" --seqlen 64 --nsamples 20 --out "$WORK/bad5.h5"
expect_error "--out in a missing folder" "--out: .*no-such-dir/x.h5" \
    mpirun_rf 2 calibrate --model "$M" --tokens "$T" --seqlen 64 --out "$WORK/no-such-dir/x.h5"
check "the error printed once" bash -c "[ \$(grep -c '^riverforge: error:' '$WORK/err.log') = 1 ]"
check "no output file after bad input" bash -c "! ls '$WORK'/bad*.h5* 2>/dev/null | grep -q ."
finish
