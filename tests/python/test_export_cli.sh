#!/usr/bin/env bash
# riverforge export without Python: --help, what a good export holds (the tokenizer and generation
# files copied, every source tensor accounted for, copied ones byte for byte, a vision tower's
# generated matrices in place of the originals), and bad input: one line naming the file, tensor
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

# tensor FOLDER NAME: dtype, shape and sha256 of tensor NAME's bytes in FOLDER's safetensors files.
tensor() {
    python3 - "$1" "$2" <<'PY'
import glob, hashlib, json, struct, sys
for path in sorted(glob.glob(sys.argv[1] + "/*.safetensors")):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        if sys.argv[2] in header:
            e = header[sys.argv[2]]
            f.seek(8 + n + e["data_offsets"][0])
            data = f.read(e["data_offsets"][1] - e["data_offsets"][0])
            print(e["dtype"], e["shape"], hashlib.sha256(data).hexdigest())
PY
}
same_tensor() { # same_tensor DIR_A NAME_A DIR_B NAME_B: same dtype, shape and bytes
    local a b
    a=$(tensor "$1" "$2") b=$(tensor "$3" "$4")
    [ -n "$a" ] && [ "$a" = "$b" ]
}

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
check "a copied tensor is the source's, byte for byte" \
    same_tensor "$WORK/m2" model.embed_tokens.weight "$WORK/good" model.embed_tokens.weight
check "codes are I8 [64, 8, 2] for a 64x64 matrix, 2x4, groups of 8" test \
    "$(tensor "$WORK/good" model.layers.0.self_attn.q_proj.codes | cut -d' ' -f1-4)" = "I8 [64, 8, 2]"
expect_error "an unknown --format" "--format gguf: unknown format" \
    "$RIVERFORGE" "${EXPORT[@]}" --out "$WORK/o1" --format gguf
expect_error "a missing --model" "--checkpoint FILE.h5, --model DIR and --out DIR are required" \
    "$RIVERFORGE" export --checkpoint "$CK" --out "$WORK/o2"
expect_error "a checkpoint of another model (other shapes)" "is \[64, 128\] but model.layers.0.mlp.down_proj.weight in .*wide is \[128, 128\] \(a checkpoint of another model" \
    "$RIVERFORGE" export --checkpoint "$CK" --model "$WORK/wide" --out "$WORK/o3"
expect_error "a model without a tensor the checkpoint has" "has no tensor model.layers.1.*weight in .*m1" \
    "$RIVERFORGE" export --checkpoint "$CK" --model "$WORK/m1" --out "$WORK/o4"
check "nothing written by the refused exports" test ! -e "$WORK/o1" -a ! -e "$WORK/o3/config.json" -a ! -e "$WORK/o4/config.json"

# A vision tower whose block 2 QGP generates from block 1: the generated matrices replace the
# originals, as /vit stores them (dequantize writes the same float32 bytes).
V=$WORK/vlm
"$RIVERFORGE" synth --out "$V" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 --vit-blocks 3 --vit-hidden 32 --vit-mlp 64 >/dev/null
mpirun_rf 2 run --model "$V" --num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 \
    --max_epochs 1 --steps_per_epoch 2 --init_max_iter 2 --vit-share 1:2 --vit-generator qgp \
    --gen-steps 2 --out "$WORK/rv" >/dev/null
check "export of a checkpoint with generated ViT matrices" "$RIVERFORGE" export \
    --checkpoint "$WORK/rv/checkpoint.h5" --model "$V" --out "$WORK/vexp"
"$RIVERFORGE" dequantize --checkpoint "$WORK/rv/checkpoint.h5" --out "$WORK/vdense" >/dev/null
G=vision_model.encoder.layers.2.mlp.fc1.weight
check "a generated matrix replaces block 2's original (F32, as stored)" \
    same_tensor "$WORK/vdense" "$G" "$WORK/vexp" "$G"
check "block 1's matrix is copied" same_tensor "$V" "${G/layers.2/layers.1}" "$WORK/vexp" "${G/layers.2/layers.1}"
check "the vision matrices stay dense in quantization_config" grep -q "\"$G\"" "$WORK/vexp/config.json"

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
# the checkpoint is probed before OUT is touched: the earlier export there stays whole
check "the earlier export in --out is left as it was" cmp "$WORK/good/config.json" "$WORK/again/config.json"
finish
