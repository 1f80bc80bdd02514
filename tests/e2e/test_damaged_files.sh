#!/usr/bin/env bash
# Damaged files are never trusted (docs/usage.md, "Damaged files"). Every command runs under
# `timeout`: a hang fails the case, and so does a crash (any exit code but the one expected).
#   - shards of a finished run damaged in several ways (the superblock, the global heap that holds
#     the attribute strings, a data chunk, truncated, a zero-filled tail; an AQLM shard and a
#     generated-ViT shard): each rerun warns, recomputes that shard, and ends in a checkpoint whose
#     codes, codebooks, scales and /vit weights equal a clean run's;
#   - an --xtx file damaged the same ways: exit 2 and one line naming the file, no checkpoint; an
#     --xtx dataset smaller than its matrix: exit 2 before the XTX buffer is allocated;
#   - other statistics under the same --xtx name between two runs: refused naming --xtx and --out;
#   - a damaged checkpoint given to inspect and dequantize: exit 2 naming it.
. "$(dirname "$0")/../fixtures/lib.sh"
LIMIT=300 # seconds per command: far above a clean run's, far below ctest's limit

M=$WORK/m
SYNTH=(--layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 --head-dim 32 --vocab 32
       --vit-blocks 2 --vit-hidden 32 --vit-mlp 64)
"$RIVERFORGE" synth --out "$M" "${SYNTH[@]}" --calib-tokens 256 >/dev/null
RUN=(--model "$M" --num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 --max_epochs 1
     --steps_per_epoch 2 --init_max_iter 5 --vit-share 0:1 --vit-generator paramgen --gen-steps 5)
export -f mpirun_rf # for timeout, which runs programs, not shell functions
rf() { timeout -k 10 "$LIMIT" bash -c 'mpirun_rf "$@"' rf 2 run "${RUN[@]}" "$@"; }

# flip FILE OFFSET: five bytes changed at OFFSET
flip() { printf '\x5a\xa5\xff\x00\x13' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# offset_of FILE TEXT: where TEXT first occurs in FILE
offset_of() { grep -obUa -m1 "$2" "$1" | head -1 | cut -d: -f1; }
# chunk_of FILE DATASET: an offset inside the dataset's first chunk, found by its bytes (uint8 or
# float32 datasets: h5dump writes those as stored)
chunk_of() {
    h5dump -b LE -d "$2" -o "$WORK/raw.bin" "$1" >/dev/null
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); r = open(sys.argv[2], "rb").read()
at = d.find(r[:64]); print(at + 16); sys.exit(at < 0)' "$1" "$WORK/raw.bin"
}
truncate_third() { truncate -s $(($(stat -c %s "$1") * 2 / 3)) "$1"; }
zero_tail() { # the second half zeroed, the size kept
    local size
    size=$(stat -c %s "$1")
    dd if=/dev/zero of="$1" bs=1 seek=$((size / 2)) count=$((size - size / 2)) conv=notrunc \
        status=none
}
same_vit() { # same_vit A.h5 B.h5: every /vit weight identical
    local name n=0
    for name in $(h5ls "$1/vit" | awk '{print $1}'); do
        h5diff "$1" "$2" "/vit/$name/weight" "/vit/$name/weight" || return 1
        n=$((n + 1))
    done
    [ "$n" -gt 0 ]
}

check "a clean run" rf --xtx "$M/xtx.h5" --out "$WORK/clean"
check "the run whose shards get damaged" rf --xtx "$M/xtx.h5" --out "$WORK/o"
NMAT=$(h5ls "$WORK/clean/checkpoint.h5/matrices" | wc -l)
S=$WORK/o/shards
A=model.layers.0.mlp.down_proj
VIT=$(basename "$(ls "$S" | grep -m1 vision)" .h5)

# damaged DESCRIPTION SHARD: the rerun warns about SHARD, recomputes it and matches the clean run
damaged() {
    local what=$1 shard=$2 rc=0
    rf --xtx "$M/xtx.h5" --out "$WORK/o" >"$WORK/rerun.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        not_ok "$what: exit code $rc"
        tail -5 "$WORK/rerun.log" | sed 's/^/    /'
    elif ! grep -q "warning: recomputing shard .*$shard" "$WORK/rerun.log"; then
        not_ok "$what: no warning that $shard is recomputed"
    elif ! same_bytes "$WORK/clean/checkpoint.h5" "$WORK/o/checkpoint.h5" "$NMAT" >/dev/null 2>&1 ||
         ! same_vit "$WORK/clean/checkpoint.h5" "$WORK/o/checkpoint.h5" >/dev/null 2>&1; then
        not_ok "$what: the checkpoint differs from the clean run's"
    else
        ok "$what: $(grep -m1 'warning: recomputing' "$WORK/rerun.log" | sed 's/.*warning: //')"
    fi
}
flip "$S/$A.h5" 552
damaged "a shard's superblock" "$A.h5"
flip "$S/$A.h5" $(($(offset_of "$S/$A.h5" GCOL) + 40))
damaged "a shard's attribute strings (global heap)" "$A.h5"
flip "$S/$A.h5" "$(chunk_of "$S/$A.h5" "/matrices/$A/codes")"
damaged "a shard's codes chunk" "$A.h5"
truncate_third "$S/$A.h5"
damaged "a truncated shard" "$A.h5"
zero_tail "$S/$A.h5"
damaged "a shard with a zero-filled tail" "$A.h5"
flip "$S/$VIT.h5" "$(chunk_of "$S/$VIT.h5" "/vit/$VIT/weight")"
damaged "a generated-ViT shard's weight chunk" "$VIT.h5"
truncate_third "$S/$VIT.h5"
damaged "a truncated generated-ViT shard" "$VIT.h5"

# bad_xtx DESCRIPTION DAMAGE...: a copy of the XTX file, damaged, given to a run
bad_xtx() {
    local what=$1 x=$WORK/xtx-$RANDOM.h5
    shift
    cp "$M/xtx.h5" "$x"
    "$@" "$x"
    expect_error "an --xtx file with $what" "$(basename "$x")" rf --xtx "$x" --out "$x.out"
    check "no checkpoint after an --xtx file with $what" test ! -e "$x.out/checkpoint.h5"
}
xtx_superblock() { flip "$1" 552; }
xtx_names() { flip "$1" $(($(offset_of "$1" HEAP) + 40)); } # the local heap of link names
xtx_chunk() { flip "$1" "$(chunk_of "$1" "/xtx/$A")"; }
bad_xtx "a damaged superblock" xtx_superblock
bad_xtx "damaged link names (local heap)" xtx_names
bad_xtx "a damaged data chunk" xtx_chunk
bad_xtx "a truncation" truncate_third
bad_xtx "a zero-filled tail" zero_tail

# [8, 8] statistics for an [8, 1048576] matrix: refused from the metadata, before the run asks for
# the in x in floats (4 TiB) the XTX would need.
python3 -c 'import json, struct, sys
h = json.dumps({sys.argv[2] + ".weight": {"dtype": "F32", "shape": [8, 1048576],
                                          "data_offsets": [0, 8 * 1048576 * 4]}}).encode()
f = open(sys.argv[1], "wb"); f.write(struct.pack("<Q", len(h)) + h)
f.truncate(8 + len(h) + 8 * 1048576 * 4)' \
    "$WORK/wide.safetensors" "$A"
"$MAKE_XTX" "$WORK/wide-xtx.h5" "$A" 8 identity
expect_error "an --xtx dataset smaller than its matrix" \
    "wide-xtx.h5: /xtx/$A is \[8, 8\], expected \[1048576, 1048576\]" \
    timeout -k 10 "$LIMIT" bash -c 'mpirun_rf "$@"' rf 2 run --model "$WORK/wide.safetensors" \
    --xtx "$WORK/wide-xtx.h5" --out "$WORK/wide" --num_codebooks 1 --nbits_per_codebook 4

# Other statistics under the same name: the rerun is refused, the shards are left alone.
cp "$M/xtx.h5" "$WORK/same-name.h5"
check "a run with --xtx same-name.h5" rf --xtx "$WORK/same-name.h5" --out "$WORK/ox"
"$RIVERFORGE" synth --out "$WORK/m2" "${SYNTH[@]}" --calib-tokens 512 >/dev/null
check "the other model folder has the same tensors" \
    cmp "$M/model.safetensors" "$WORK/m2/model.safetensors"
cp "$WORK/m2/xtx.h5" "$WORK/same-name.h5"
expect_error "other statistics under the same --xtx name" \
    "--xtx .*same-name.h5: --out .*ox holds shards computed from other calibration statistics" \
    rf --xtx "$WORK/same-name.h5" --out "$WORK/ox"

# A damaged checkpoint given to inspect and dequantize. Changed attribute strings are legal HDF5,
# but the checkpoint's image checksum no longer matches: a warning names the file.
cp "$WORK/clean/checkpoint.h5" "$WORK/ckpt.h5"
flip "$WORK/ckpt.h5" $(($(offset_of "$WORK/ckpt.h5" GCOL) + 40))
timeout -k 10 "$LIMIT" "$RIVERFORGE" inspect "$WORK/ckpt.h5" >/dev/null 2>"$WORK/err" || true
check "inspect of a checkpoint with damaged attribute strings warns" \
    grep -q "warning: .*ckpt.h5: damaged HDF5 file (its image checksum does not match)" "$WORK/err"
cp "$WORK/clean/checkpoint.h5" "$WORK/ckpt.h5"
flip "$WORK/ckpt.h5" "$(chunk_of "$WORK/ckpt.h5" "/matrices/$A/codes")"
expect_error "inspect of a checkpoint with a damaged chunk" "ckpt.h5.*$A/codes" \
    timeout -k 10 "$LIMIT" "$RIVERFORGE" inspect "$WORK/ckpt.h5"
truncate_third "$WORK/ckpt.h5"
expect_error "dequantize of a truncated checkpoint" "ckpt.h5" \
    timeout -k 10 "$LIMIT" "$RIVERFORGE" dequantize --checkpoint "$WORK/ckpt.h5" --out "$WORK/dense"
check "no dense index after it" test ! -e "$WORK/dense/model.safetensors.index.json"
finish
