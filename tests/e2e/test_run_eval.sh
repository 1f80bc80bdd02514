#!/usr/bin/env bash
# run and sweep --eval-tokens on a synthetic Qwen3 under mpirun: the summary's perplexity is the
# one `eval --checkpoint` prints (the same code path), the dense figure and the ratio beside it; a
# sweep of 2 configurations records both and report shows the column; a rerun keeps the figures
# without recomputing them; a bad token file or a model the forward pass cannot run is refused
# before any work (exit 2, one line naming the file or the reason, no shard written).
. "$(dirname "$0")/../fixtures/lib.sh"

M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 \
    --head-dim 16 --vocab 100 >/dev/null
T=$WORK/tokens.bin
python3 -c '
import random, struct, sys
r = random.Random(11)
open(sys.argv[1], "wb").write(struct.pack("<640I", *[r.randrange(100) for _ in range(640)]))' "$T"
QUICK=(--max_epochs 2 --steps_per_epoch 2 --init_max_iter 2)

check "run --eval-tokens" mpirun_rf 2 run --model "$M" --out "$WORK/run" --num_codebooks 1 \
    --nbits_per_codebook 8 --in_group_size 8 "${QUICK[@]}" --eval-tokens "$T" --eval-seqlen 64 \
    --eval-nsamples 8
mpirun_rf 2 eval --model "$M" --tokens "$T" --seqlen 64 --nsamples 8 \
    --checkpoint "$WORK/run/checkpoint.h5" >"$WORK/eval.txt" 2>&1 || true
check "the summary's figures are eval --checkpoint's to the printed precision" python3 -c '
import json, re, sys
s = json.load(open(sys.argv[1])); text = open(sys.argv[2]).read()
dense = float(re.search(r"dense +perplexity ([0-9.]+)", text).group(1))
quant = float(re.search(r"quantized +perplexity ([0-9.]+)", text).group(1))
assert "%.6f" % s["perplexity"] == "%.6f" % quant, (s["perplexity"], quant)
assert "%.6f" % s["dense_perplexity"] == "%.6f" % dense, (s["dense_perplexity"], dense)
assert abs(s["perplexity_ratio"] - s["perplexity"] / s["dense_perplexity"]) < 1e-12
assert s["eval_tokens"] == sys.argv[3] and s["eval_seqlen"] == 64
assert s["eval_sequences"] == 8 and s["eval_predicted_tokens"] == 8 * 63
assert s["complete"] and s["perplexity"] != s["dense_perplexity"]' \
    "$WORK/run/summary.json" "$WORK/eval.txt" "$T"
check "the terminal summary prints the figures" bash -c "'$RIVERFORGE' run --model '$M' --out '$WORK/run' \
    --num_codebooks 1 --nbits_per_codebook 8 --in_group_size 8 ${QUICK[*]} --eval-tokens '$T' \
    --eval-seqlen 64 --eval-nsamples 8 | tee '$WORK/rerun.txt' \
    | grep -E '^riverforge: perplexity [0-9.]+ \\(dense [0-9.]+, ratio [0-9.]+\\) on 8 windows'"
check "a rerun of a complete run keeps the recorded figures" grep -q "as recorded" "$WORK/rerun.txt"
check "and its summary still has them" python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); assert s["perplexity"] > 1 and s["eval_sequences"] == 8' \
    "$WORK/run/summary.json"
check "another --eval-seqlen recomputes" bash -c "'$RIVERFORGE' run --model '$M' --out '$WORK/run' \
    --num_codebooks 1 --nbits_per_codebook 8 --in_group_size 8 ${QUICK[*]} --eval-tokens '$T' \
    --eval-seqlen 32 | grep -E '^riverforge: perplexity .* on 20 windows of 32 tokens' | grep -vq recorded"

check "sweep --eval-tokens, 2 configurations" mpirun_rf 2 sweep --model "$M" --out "$WORK/sweep" \
    --grid "nbits_per_codebook=6,8" --num_codebooks 1 --in_group_size 8 "${QUICK[@]}" \
    --eval-tokens "$T" --eval-seqlen 64
check "both summaries record the same dense figure and their own perplexity" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["dense_perplexity"] == b["dense_perplexity"] and a["eval_sequences"] == 10
assert a["perplexity"] > 1 and b["perplexity"] > 1 and a["perplexity"] != b["perplexity"]' \
    "$WORK/sweep/1x6-g8/summary.json" "$WORK/sweep/1x8-g8/summary.json"
check "report prints the perplexity column" bash -c "'$RIVERFORGE' report '$WORK/sweep' \
    >'$WORK/report.txt' && python3 -c '
import json, sys
text = open(sys.argv[1]).read()
for name in (\"1x6-g8\", \"1x8-g8\"):
    p = json.load(open(sys.argv[2] + \"/\" + name + \"/summary.json\"))[\"perplexity\"]
    assert \"%.4f\" % p in text, (name, p)' '$WORK/report.txt' '$WORK/sweep'"
cp "$WORK/sweep/1x6-g8/summary.json" "$WORK/sweep-1x6-before.json"
rm "$(ls "$WORK"/sweep/1x6-g8/shards/*.h5 | head -n1)"
check "a sweep rerun after a lost shard" bash -c "'$RIVERFORGE' sweep --model '$M' --out '$WORK/sweep' \
    --grid nbits_per_codebook=6,8 --num_codebooks 1 --in_group_size 8 ${QUICK[*]} \
    --eval-tokens '$T' --eval-seqlen 64 >'$WORK/sweep-rerun.txt'"
check "recomputes only the configuration whose checkpoint is new" bash -c "\
    grep -q '^riverforge: 1x8-g8: perplexity .*as recorded' '$WORK/sweep-rerun.txt' && \
    grep '^riverforge: 1x6-g8: perplexity' '$WORK/sweep-rerun.txt' | grep -vq 'as recorded'"
check "and gets the same figure (same shard, same checkpoint)" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["perplexity"] == b["perplexity"] and a["dense_perplexity"] == b["dense_perplexity"]' \
    "$WORK/sweep-1x6-before.json" "$WORK/sweep/1x6-g8/summary.json"

# Refused before any work: exit 2, one line, no shard.
python3 -c '
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<200I", *([5] * 150 + [100] + [5] * 49)))' "$WORK/bad-id.bin"
expect_error "token id >= vocab_size" "--eval-tokens: .*bad-id.bin: token 100 at position 150" \
    mpirun_rf 2 run --model "$M" --out "$WORK/bad1" --eval-tokens "$WORK/bad-id.bin" --eval-seqlen 64
check "no shard written" bash -c "[ -z \"\$(ls -A '$WORK/bad1/shards' 2>/dev/null)\" ]"
head -c 401 "$T" >"$WORK/odd.bin"
expect_error "size not a multiple of 4" "odd.bin: size 401 is not a multiple of 4" \
    mpirun_rf 2 sweep --model "$M" --out "$WORK/bad2" --grid "nbits_per_codebook=6,8" \
    --eval-tokens "$WORK/odd.bin" --eval-seqlen 64
check "no configuration folder written" bash -c "[ ! -e '$WORK/bad2/1x6-g8/shards' ]"
expect_error "fewer tokens than one window" "tokens.bin: 640 tokens, fewer than one sequence of 2048 \\(--eval-seqlen\\)" \
    "$RIVERFORGE" run --model "$M" --out "$WORK/bad3" --eval-tokens "$T"
mkdir -p "$WORK/noconfig" && cp "$M/model.safetensors" "$WORK/noconfig/"
expect_error "model without config.json" "--eval-tokens needs a model the forward pass reads: .*noconfig/config.json" \
    mpirun_rf 2 run --model "$WORK/noconfig" --out "$WORK/bad4" --eval-tokens "$T" --eval-seqlen 64
check "no shard written" bash -c "[ -z \"\$(ls -A '$WORK/bad4/shards' 2>/dev/null)\" ]"
check "the error printed once" bash -c "[ \$(grep -c '^riverforge: error:' '$WORK/err.log') = 1 ]"
expect_error "--eval-seqlen 1" "--eval-seqlen 1: at least 2 tokens" \
    "$RIVERFORGE" run --model "$M" --out "$WORK/bad5" --eval-tokens "$T" --eval-seqlen 1
finish
