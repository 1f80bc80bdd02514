#!/usr/bin/env bash
# riverforge export without Python: --help, what a good export holds (the tokenizer and generation
# files copied, every source tensor accounted for), and bad input: one line naming the file, tensor
# or flag, exit 2, and nothing that looks like a complete export (no config.json) after a failure.
# A small synthetic model quantized 2x4.
. "$(dirname "$0")/../fixtures/lib.sh"

small() { # small DIR LAYERS: a small synthetic Qwen3
    "$RIVERFORGE" synth --out "$1" --layers "$2" --hidden 64 --intermediate 128 --heads 2 \
        --kv-heads 1 --head-dim 32 --vocab 64 --calib-tokens 256 >/dev/null
}
small "$WORK/m2" 2
small "$WORK/m1" 1
"$RIVERFORGE" synth --out "$WORK/wide" --layers 2 --hidden 128 --intermediate 128 --heads 2 \
    --kv-heads 1 --head-dim 32 --vocab 64 --calib-tokens 256 >/dev/null
AQLM=(--model "$WORK/m2" --in_group_size 8 --max_epochs 1 --steps_per_epoch 2 --init_max_iter 2)
mpirun_rf 2 run "${AQLM[@]}" --num_codebooks 2 --nbits_per_codebook 4 --out "$WORK/r2x4" >/dev/null
mpirun_rf 1 run "${AQLM[@]}" --num_codebooks 1 --nbits_per_codebook 4 --only 'k_proj' \
    --out "$WORK/r1x4" >/dev/null
CK=$WORK/r2x4/checkpoint.h5
EXPORT=(export --checkpoint "$CK" --model "$WORK/m2")

echo '{"bos_token_id": 1}' >"$WORK/m2/generation_config.json"
echo '{"version": "1.0"}' >"$WORK/m2/tokenizer.json"
check "export --help" "$RIVERFORGE" export --help
check "a good export" "$RIVERFORGE" "${EXPORT[@]}" --out "$WORK/good"
check "writes config.json with quant_method aqlm" grep -q '"quant_method": "aqlm"' "$WORK/good/config.json"
check "copies generation_config.json" cmp "$WORK/m2/generation_config.json" "$WORK/good/generation_config.json"
check "copies tokenizer.json" cmp "$WORK/m2/tokenizer.json" "$WORK/good/tokenizer.json"
# 14 matrices x (codes, codebooks, scales) + per layer 2 norms and the q/k norms, the final norm and
# the embedding: every tensor of the source is there, the quantized ones as three.
check "the index lists 14 x 3 + 10 tensors" \
    test "$(grep -c '"model-00001.safetensors"' "$WORK/good/model.safetensors.index.json")" -eq 52
expect_error "an unknown --format" "--format gguf: unknown format" \
    "$RIVERFORGE" "${EXPORT[@]}" --out "$WORK/o1" --format gguf
expect_error "a missing --model" "--checkpoint FILE.h5, --model DIR and --out DIR are required" \
    "$RIVERFORGE" export --checkpoint "$CK" --out "$WORK/o2"
expect_error "a checkpoint of another model (other shapes)" "is \[64, 128\] but model.layers.0.mlp.down_proj.weight in .*wide is \[128, 128\] \(a checkpoint of another model" \
    "$RIVERFORGE" export --checkpoint "$CK" --model "$WORK/wide" --out "$WORK/o3"
expect_error "a model without a tensor the checkpoint has" "has no tensor model.layers.1.*weight in .*m1" \
    "$RIVERFORGE" export --checkpoint "$CK" --model "$WORK/m1" --out "$WORK/o4"
check "nothing written by the refused exports" test ! -e "$WORK/o1" -a ! -e "$WORK/o3/config.json" -a ! -e "$WORK/o4/config.json"

# Mixed configurations: the 1x4 run's k_proj beside the 2x4 run's q_proj.
Q=model.layers.0.self_attn.q_proj
cp "$WORK/r1x4/checkpoint.h5" "$WORK/mixed.h5"
h5copy -i "$CK" -o "$WORK/mixed.h5" -s "/matrices/$Q" -d "/matrices/$Q"
expect_error "matrices of two configurations" "q_proj is 2x4 g8/1 but /matrices/.*k_proj is 1x4 g8/1: transformers' quantization_config holds one configuration per model" \
    "$RIVERFORGE" export --checkpoint "$WORK/mixed.h5" --model "$WORK/m2" --out "$WORK/o5"
expect_error "a config.json that is not JSON" "m2-bad/config.json" \
    bash -c "cp -r '$WORK/m2' '$WORK/m2-bad' && echo '{' >'$WORK/m2-bad/config.json' && '$RIVERFORGE' export --checkpoint '$CK' --model '$WORK/m2-bad' --out '$WORK/o6'"
expect_error "--out is the model" "--out .* is the --model folder" \
    "$RIVERFORGE" "${EXPORT[@]}" --out "$WORK/m2"
expect_error "a truncated checkpoint" "trunc.h5" \
    bash -c "head -c 4000 '$CK' >'$WORK/trunc.h5' && '$RIVERFORGE' export --checkpoint '$WORK/trunc.h5' --model '$WORK/m2' --out '$WORK/o7'"

# A damaged chunk found while writing: the error line, and the earlier export's config.json is gone.
cp -r "$WORK/good" "$WORK/again"
# The bytes of one matrix's codes, found in the file and flipped: its Fletcher32 check fails.
h5dump -d "/matrices/$Q/codes" -b LE -o "$WORK/codes.bin" "$CK" >/dev/null
python3 - "$CK" "$WORK/codes.bin" "$WORK/damaged.h5" <<'PY'
import sys
data, codes = bytearray(open(sys.argv[1], "rb").read()), open(sys.argv[2], "rb").read()
at = data.find(codes)
assert at > 0 and len(codes) > 16, "the codes are not stored as one plain chunk"
data[at + len(codes) // 2] ^= 0xFF
open(sys.argv[3], "wb").write(data)
PY
expect_error "a damaged checkpoint" "damaged.h5.*codes.*Fletcher32" \
    "$RIVERFORGE" export --checkpoint "$WORK/damaged.h5" --model "$WORK/m2" --out "$WORK/again"
check "no config.json left by the failed export" test ! -e "$WORK/again/config.json"
finish
