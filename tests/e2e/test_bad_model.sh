#!/usr/bin/env bash
# Hostile model folders (docs/robustness.md): each case runs the binary under mpirun on a damaged
# or hostile file and expects exit 2 and one line naming the file (and the index entry, field or
# tensor), before any work. Every command runs under `timeout`: a FIFO that a plain open would
# wait on forever, or any other hang, fails the case instead of the suite.
#   - index entries that leave the model folder (../, absolute, a subfolder, empty) and index
#     entries, models, config.json and --xtx that are FIFOs;
#   - shards whose header is {} (no tensor), an empty weight_map, header lengths over 100 MB or
#     beyond the file;
#   - config.json with a syntax error (line and column) or a field of the wrong type;
#   - a matrix whose row norm is beyond float16's range: FILE: tensor NAME: reason.
. "$(dirname "$0")/../fixtures/lib.sh"
LIMIT=120 # seconds per command; a clean one takes a few
export -f mpirun_rf # for timeout, which runs programs, not shell functions
rf() { timeout -k 10 "$LIMIT" bash -c 'mpirun_rf "$@"' rf 2 run "$@" "${QUICK[@]}"; }
QUICK=(--num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 --max_epochs 1 --steps_per_epoch 2)
T=model.layers.0.mlp.down_proj

# write_st FILE HEADER NBYTES [ROW VALUE]: a safetensors file with NBYTES of float32 data, zeros
# but element [0, 0] = 1 and, when given, row ROW of a [16, 32] matrix set to VALUE.
# HEADER_LENGTH (environment) overrides the declared header length.
write_st() {
    python3 - "$@" <<'EOF'
import os, struct, sys
path, header, nbytes = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
data = bytearray(nbytes)
if nbytes >= 4:
    data[0:4] = struct.pack("<f", 1.0)
if len(sys.argv) > 5:
    row, value = int(sys.argv[4]), float(sys.argv[5])
    data[row * 128:(row + 1) * 128] = struct.pack("<f", value) * 32
hlen = int(os.environ.get("HEADER_LENGTH", len(header)))
with open(path, "wb") as f:
    f.write(struct.pack("<Q", hlen) + header + data)
EOF
}
one() { echo "{\"$T.weight\":{\"dtype\":\"F32\",\"shape\":[16,32],\"data_offsets\":[0,2048]}}"; }
# index DIR FILE: DIR/model.safetensors.index.json mapping the matrix to FILE
index() { printf '{"weight_map": {"%s": "%s"}}\n' "$T.weight" "$2" >"$1/model.safetensors.index.json"; }

write_st "$WORK/outside.safetensors" "$(one)" 2048
check "a one-matrix file runs (the cases below differ from it in one thing)" \
    rf --model "$WORK/outside.safetensors" --out "$WORK/good"

# ---- index entries that leave the model folder ----
I=$WORK/ix
mkdir -p "$I/sub"
cp "$WORK/outside.safetensors" "$I/sub/x.safetensors"
n=0
for name in ../outside.safetensors "$WORK/outside.safetensors" sub/x.safetensors ""; do
    n=$((n + 1))
    index "$I" "$name"
    expect_error "an index entry \"$name\" is refused naming the index and the entry" \
        "ix/model.safetensors.index.json: weight_map\[\"$T.weight\"\] is \"$name\", not the name of a file in the model directory" \
        rf --model "$I" --out "$WORK/o$n"
    check "  before any work: no shard folder" test ! -e "$WORK/o$n/shards"
done
index "$I" ../outside.safetensors
expect_error "plan refuses it too" "weight_map\[\"$T.weight\"\] is \"\.\./outside\.safetensors\"" \
    timeout -k 10 "$LIMIT" "$RIVERFORGE" plan --model "$I" --gflops 1 "${QUICK[@]}"

# ---- FIFOs, which a plain open waits on forever ----
mkfifo "$I/fifo.safetensors"
index "$I" fifo.safetensors
expect_error "an index entry that is a FIFO" \
    "ix/model.safetensors.index.json: weight_map\[\"$T.weight\"\]: .*ix/fifo.safetensors: not a regular file \(a FIFO\)" \
    rf --model "$I" --out "$WORK/f1"
expect_error "a FIFO given as --model" "ix/fifo.safetensors: not a regular file \(a FIFO\)" \
    rf --model "$I/fifo.safetensors" --out "$WORK/f2"
C=$WORK/cfg
mkdir -p "$C"
cp "$WORK/outside.safetensors" "$C/model.safetensors"
mkfifo "$C/config.json"
expect_error "a config.json that is a FIFO" "cfg/config.json: not a regular file \(a FIFO\)" \
    rf --model "$C" --out "$WORK/f3"
mkfifo "$WORK/xtx.h5"
expect_error "an --xtx that is a FIFO" "xtx.h5: not a regular file" \
    rf --model "$WORK/outside.safetensors" --xtx "$WORK/xtx.h5" --out "$WORK/f4"

# ---- empty headers, empty weight_map, header lengths ----
E=$WORK/empty
mkdir -p "$E"
write_st "$E/s1.safetensors" "{}" 0
write_st "$E/s2.safetensors" "{}" 0
printf '{"weight_map": {"%s": "s1.safetensors", "b": "s2.safetensors"}}\n' "$T.weight" \
    >"$E/model.safetensors.index.json"
expect_error "two index-named shards with header {}" \
    "empty/model.safetensors.index.json: tensor $T.weight is mapped to s1.safetensors, which has no tensor" \
    rf --model "$E" --out "$WORK/e1"
echo '{"metadata": {"total_size": 0}, "weight_map": {}}' >"$E/model.safetensors.index.json"
expect_error "an empty weight_map" "empty/model.safetensors.index.json: \"weight_map\" is empty" \
    rf --model "$E" --out "$WORK/e2"
HEADER_LENGTH=$((1 << 40)) write_st "$WORK/huge.safetensors" "$(one)" 2048
expect_error "a header length over 100 MB" "huge.safetensors: not a safetensors file \(header length [0-9]+ is over 100 MB\)" \
    rf --model "$WORK/huge.safetensors" --out "$WORK/e3"
HEADER_LENGTH=99000000 write_st "$WORK/beyond.safetensors" "$(one)" 2048
expect_error "a header length beyond the file" "beyond.safetensors: truncated: header says 99000000 bytes" \
    rf --model "$WORK/beyond.safetensors" --out "$WORK/e4"

# ---- config.json ----
rm "$C/config.json"
printf '{\n  "model_type": "qwen3",\n  "num_hidden_layers": 1,,\n}\n' >"$C/config.json"
expect_error "a config.json with a syntax error: line and column" \
    "cfg/config.json: not valid JSON at line 3 column [0-9]+: " rf --model "$C" --out "$WORK/c1"
echo '{"model_type": "qwen3", "num_hidden_layers": "1"}' >"$C/config.json"
expect_error "a config.json field of the wrong type, named" \
    "cfg/config.json: num_hidden_layers is \"1\", not a non-negative integer" \
    rf --model "$C" --out "$WORK/c2"
echo '{"model_type": "internvl_chat", "llm_config": "qwen3"}' >"$C/config.json"
expect_error "a config.json section that is not an object" \
    "cfg/config.json: llm_config is \"qwen3\", not an object" rf --model "$C" --out "$WORK/c3"

# ---- a weight the checkpoint cannot hold ----
write_st "$WORK/norm.safetensors" "$(one)" 2048 3 30000 # row 3: norm 30000 sqrt(32) > 65504
expect_error "a row norm beyond float16's range names the file and the tensor" \
    "norm.safetensors: tensor $T.weight: out-group 3 has L2 norm [0-9.e+]+, beyond float16 scales \(65504\)" \
    rf --model "$WORK/norm.safetensors" --out "$WORK/n1"
check "no checkpoint after it" test ! -e "$WORK/n1/checkpoint.h5"
finish
