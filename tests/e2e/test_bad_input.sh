#!/usr/bin/env bash
# Bad input: each case gives exit code 2, one line
# "riverforge: error: ..." naming the file, tensor or flag, and no checkpoint that looks complete.
. "$(dirname "$0")/../fixtures/lib.sh"
skipped=0

le64() { local n=$1 i; for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"; done; }
# write_st FILE HEADER NBYTES [HEAD_BYTES]: a safetensors file with NBYTES of data (zeros after
# the optional HEAD_BYTES, a printf string)
write_st() {
    { le64 ${#2}; printf '%s' "$2"; printf "${4:-}"; head -c "$3" /dev/zero; } >"$1"
}
T=model.layers.0.mlp.down_proj
hdr() { echo "{\"$T.weight\":{\"dtype\":\"$1\",\"shape\":[$2],\"data_offsets\":[0,$3]}}"; }
QUICK=(--num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 --max_epochs 1 --steps_per_epoch 2)

write_st "$WORK/good.safetensors" "$(hdr F32 16,32 2048)" 2048 '\x00\x00\x80\x3f'
check "a well-formed one-matrix file runs" mpirun_rf 1 run --model "$WORK/good.safetensors" --out "$WORK/good" "${QUICK[@]}"

write_st "$WORK/notjson.safetensors" "{\"$T.weight\": [" 16
expect_error "corrupt header" "notjson.safetensors.*not a safetensors file" \
    mpirun_rf 2 run --model "$WORK/notjson.safetensors" --out "$WORK/o1" "${QUICK[@]}"
head -c 100 "$WORK/good.safetensors" >"$WORK/trunc.safetensors"
expect_error "truncated file" "trunc.safetensors.*truncated" \
    mpirun_rf 2 run --model "$WORK/trunc.safetensors" --out "$WORK/o2" "${QUICK[@]}"
write_st "$WORK/f64.safetensors" "$(hdr F64 16,32 4096)" 4096
expect_error "unknown dtype" "unsupported dtype F64 for tensor $T.weight" \
    mpirun_rf 2 run --model "$WORK/f64.safetensors" --out "$WORK/o3" "${QUICK[@]}"
write_st "$WORK/mismatch.safetensors" "$(hdr F32 16,32 1000)" 1000
expect_error "shape/offset mismatch" "mismatch.safetensors.*$T.weight" \
    mpirun_rf 2 run --model "$WORK/mismatch.safetensors" --out "$WORK/o4" "${QUICK[@]}"
write_st "$WORK/beyond.safetensors" "$(hdr F32 16,32 2048)" 100
expect_error "offsets beyond the file" "beyond.safetensors.*$T.weight" \
    mpirun_rf 2 run --model "$WORK/beyond.safetensors" --out "$WORK/o5" "${QUICK[@]}"
write_st "$WORK/nan.safetensors" "$(hdr F32 16,32 2048)" 2044 '\x00\x00\xc0\x7f'
expect_error "NaN weight" "$T.weight.*non-finite" \
    mpirun_rf 2 run --model "$WORK/nan.safetensors" --out "$WORK/o6" "${QUICK[@]}"
check "no checkpoint after a NaN weight" test ! -e "$WORK/o6/checkpoint.h5"

"$MAKE_XTX" "$WORK/shape.h5" "$T" 16 identity
expect_error "XTX of the wrong shape" "shape.h5.*/xtx/$T" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --xtx "$WORK/shape.h5" --out "$WORK/o7" "${QUICK[@]}"
"$MAKE_XTX" "$WORK/nanxtx.h5" "$T" 32 nan
expect_error "XTX not finite" "nanxtx.h5.*/xtx/$T.*(finite|nan|NaN)" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --xtx "$WORK/nanxtx.h5" --out "$WORK/o8" "${QUICK[@]}"
"$MAKE_XTX" "$WORK/other.h5" model.layers.0.mlp.up_proj 32 identity
expect_error "XTX without the matrix" "other.h5 has no /xtx/$T" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --xtx "$WORK/other.h5" --out "$WORK/o9" "${QUICK[@]}"
expect_error "missing XTX file" "missing.h5" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --xtx "$WORK/missing.h5" --out "$WORK/o10" "${QUICK[@]}"

expect_error "in_group_size that does not divide" "--in_group_size 7" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/o11" "${QUICK[@]}" --in_group_size 7
expect_error "too many centroids for the groups" "--nbits_per_codebook 16" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/o12" "${QUICK[@]}" --nbits_per_codebook 16
expect_error "a flag that is not a number" "--max_epochs: 'ten' is not an integer" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/o13" --max_epochs ten
expect_error "an unknown flag" "unknown flag '--epochs'" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/o14" --epochs 3
expect_error "a bad --only regex" "--only '\(' is not a valid regular expression" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/o15" --only '('
expect_error "a missing model" "nowhere" \
    mpirun_rf 2 run --model "$WORK/nowhere" --out "$WORK/o16"
touch "$WORK/afile"
expect_error "unwritable output" "--out.*afile/out" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/afile/out" "${QUICK[@]}"

# A small synthetic model with its config.json, for the last cases.
"$RIVERFORGE" synth --out "$WORK/m" --layers 2 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 256 >/dev/null
cp -r "$WORK/m" "$WORK/m37"
sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 37/' "$WORK/m37/config.json"
expect_error "a config.json that disagrees with the tensors" \
    "m37/config.json says num_hidden_layers 37, but the model's tensors hold linear matrices of 2" \
    mpirun_rf 2 run --model "$WORK/m37" --out "$WORK/o17" "${QUICK[@]}"

# An RF_SIMD that names no SIMD path: refused before any work, on every rank.
RF_SIMD=sse4 expect_error "RF_SIMD naming no path" "RF_SIMD=sse4: expected baseline, avx2 or avx512" \
    mpirun_rf 2 run --model "$WORK/good.safetensors" --out "$WORK/simd" "${QUICK[@]}"
check "nothing written after a bad RF_SIMD" test ! -e "$WORK/simd"

# A full disk: a 96 KiB tmpfs fills up while shards are written (needs mount; skipped without).
mkdir -p "$WORK/small"
if mount -t tmpfs -o size=96k tmpfs "$WORK/small" 2>/dev/null; then
    expect_error "a full disk" "No space left on device" \
        mpirun_rf 2 run --model "$WORK/m" --out "$WORK/small/out" "${QUICK[@]}" --nbits_per_codebook 8
    check "no checkpoint after a full disk" test ! -e "$WORK/small/out/checkpoint.h5"
    umount "$WORK/small"
else
    skipped=$((skipped + 1))
    echo "skip - a full disk (cannot mount a tmpfs here)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
