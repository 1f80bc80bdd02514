#!/usr/bin/env bash
# Guards around a run (docs/usage.md, "One run per --out, and what is refused before work"):
# the lock on --out (two runs at once; a rerun while ranks of a killed mpirun live, then after
# them), XTX statistics that are not positive semi-definite or make the relative error undefined,
# shapes whose memory no node has (run and plan), and tensor names that cannot be shard files.
. "$(dirname "$0")/../fixtures/lib.sh"
MAKE_GUARD_XTX=$HELPERS/make_guard_xtx

# write_st FILE HEADER NBYTES [FIRST]: a safetensors file whose NBYTES of data are zeros (sparse:
# [200000, 200000] takes no disk), the first float32 set to FIRST when given.
write_st() {
    python3 - "$@" <<'EOF'
import struct, sys
path, header, nbytes = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    if len(sys.argv) > 4:
        f.write(struct.pack("<f", float(sys.argv[4])))
    f.truncate(8 + len(header) + nbytes)
EOF
}
T=model.layers.0.mlp.down_proj
one() { echo "{\"$1.weight\":{\"dtype\":\"F32\",\"shape\":[$2],\"data_offsets\":[0,$3]}}"; }
QUICK=(--num_codebooks 1 --nbits_per_codebook 4 --in_group_size 8 --max_epochs 1 --steps_per_epoch 2)

# ---- the lock on --out ----
M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 1 --hidden 128 --intermediate 256 --heads 4 --kv-heads 2 \
    --head-dim 32 --vocab 64 --calib-tokens 512 >/dev/null
FLAGS=(--model "$M" --xtx "$M/xtx.h5" --num_codebooks 1 --nbits_per_codebook 8 --in_group_size 8
       --max_epochs 20 --steps_per_epoch 20 --relative_mse_tolerance 0 --seed 3)
check "a clean run (the reference)" mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/ref"

mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/both" >"$WORK/a.log" 2>&1 &
A=$!
mpirun_rf 2 run "${FLAGS[@]}" --out "$WORK/both" >"$WORK/b.log" 2>&1 &
B=$!
ra=0 rb=0
wait $A || ra=$?
wait $B || rb=$?
check "two runs at once on one --out: one completes (exit 0), the other is refused (exit 2)" \
    test "$((ra + rb))" -eq 2 -a "$((ra * rb))" -eq 0
check "the refusal is one line naming --out and the holder (host, pid, start time)" \
    grep -qE "^riverforge: error: --out .*/both is in use by another run \(host [^,]+, pid [0-9]+, started [0-9-]+ [0-9:]+ UTC, 2 ranks; lock .*/both/riverforge.lock\)" \
    "$WORK/a.log" "$WORK/b.log"
check "the run that completed wrote the reference's checkpoint" \
    same_bytes "$WORK/ref/checkpoint.h5" "$WORK/both/checkpoint.h5" 7

# kill -9 of mpirun: its ranks live on for a moment (about 0.3 s here); stopped right after
# mpirun is gone (not before: stopped members of a group that mpirun's death orphans get SIGHUP),
# they live on until killed. On a loaded machine a rank can be gone before it is stopped: then
# the run is killed and started again, up to three times.
K=$WORK/killed
kill_mpirun_keep_ranks() {
    rm -f "$K/logs/rank-1.log"
    mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS "$RIVERFORGE" run "${FLAGS[@]}" \
        --out "$K" >"$WORK/k.log" 2>&1 &
    local mpirun=$!
    for _ in $(seq 200); do grep -qs "start" "$K/logs/rank-1.log" && break; sleep 0.05; done
    RANKS=$(pgrep -P $mpirun riverforge || true)
    kill -9 $mpirun
    wait $mpirun 2>/dev/null || true
    if [ "$(echo $RANKS | wc -w)" -eq 2 ]; then
        kill -STOP $RANKS 2>/dev/null || true
        [ "$(ps -o stat= -p "$(echo $RANKS | tr ' ' ,)" | grep -c T)" -eq 2 ] && return 0
    fi
    [ -z "$RANKS" ] && return 1
    kill -9 $RANKS 2>/dev/null || true
    for _ in $(seq 100); do ps -p "$(echo $RANKS | tr ' ' ,)" >/dev/null || break; sleep 0.05; done
    return 1
}
for _ in 1 2 3; do kill_mpirun_keep_ranks && break; done
check "the killed run's 2 ranks (mpirun's children) outlive mpirun" \
    test "$(ps -o stat= -p "$(echo $RANKS | tr ' ' ,)" | grep -c T)" -eq 2
expect_error "a rerun while the killed run's ranks live is refused, naming the holder" \
    "--out .*/killed is in use by another run \(host [^,]+, pid [0-9]+, started" \
    mpirun_rf 2 run "${FLAGS[@]}" --out "$K"
kill -9 $RANKS
for _ in $(seq 100); do # gone, or zombies whose locks the kernel has dropped
    [ -z "$(ps -o stat= -p "$(echo $RANKS | tr ' ' ,)" | grep -v Z || true)" ] && break
    sleep 0.05
done
check "once they are gone the rerun completes (the lock file left behind blocks nothing)" \
    mpirun_rf 2 run "${FLAGS[@]}" --out "$K"
check "and its checkpoint equals the clean run's" same_bytes "$WORK/ref/checkpoint.h5" "$K/checkpoint.h5" 7

# ---- XTX statistics ----
write_st "$WORK/w.safetensors" "$(one $T 16,32 2048)" 2048 1.0 # W: one nonzero, at [0, 0]
for kind in minus_identity negative_diagonal indefinite zero_first; do
    "$MAKE_GUARD_XTX" "$WORK/$kind.h5" "$T" 32 "$kind"
done
expect_error "XTX = -I is refused, naming the matrix" \
    "--xtx .*/minus_identity.h5: /xtx/$T \(for matrix $T\) diagonal entry \[0, 0\] is -1" \
    mpirun_rf 2 run --model "$WORK/w.safetensors" --xtx "$WORK/minus_identity.h5" --out "$WORK/x1" "${QUICK[@]}"
expect_error "a negative diagonal entry is refused" \
    "--xtx .*/negative_diagonal.h5: /xtx/$T \(for matrix $T\) diagonal entry \[31, 31\] is -1" \
    mpirun_rf 2 run --model "$WORK/w.safetensors" --xtx "$WORK/negative_diagonal.h5" --out "$WORK/x2" "${QUICK[@]}"
expect_error "a positive diagonal with a negative eigenvalue is refused" \
    "--xtx .*/indefinite.h5: /xtx/$T \(for matrix $T\) not positive semi-definite" \
    mpirun_rf 2 run --model "$WORK/w.safetensors" --xtx "$WORK/indefinite.h5" --out "$WORK/x3" "${QUICK[@]}"
expect_error "an undefined relative error is refused, not reported as 0" \
    "--xtx .*/zero_first.h5: /xtx/$T gives tr\(W XTX W\^T\) <= 0 for matrix $T" \
    mpirun_rf 2 run --model "$WORK/w.safetensors" --xtx "$WORK/zero_first.h5" --out "$WORK/x4" "${QUICK[@]}"
check "no checkpoint after any of them" \
    test ! -e "$WORK/x1/checkpoint.h5" -a ! -e "$WORK/x2/checkpoint.h5" -a ! -e "$WORK/x3/checkpoint.h5" -a ! -e "$WORK/x4/checkpoint.h5"
"$RIVERFORGE" synth --out "$WORK/few" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 --calib-tokens 16 >/dev/null
check "statistics of fewer tokens than in_features (singular, positive semi-definite) pass" \
    mpirun_rf 2 run --model "$WORK/few" --xtx "$WORK/few/xtx.h5" --out "$WORK/x5" "${QUICK[@]}"

# ---- memory before work ----
write_st "$WORK/wide.safetensors" "$(one $T 8,1048576 33554432)" 33554432
"$MAKE_GUARD_XTX" "$WORK/wide.h5" "$T" 8 identity
BYTES="needs about [0-9]+ bytes \([0-9.]+ GiB\) per rank"
# run checks the XTX's shape first (before any allocation), so its [8, 8] is what it names
expect_error "run: [8, 1048576] with an [8, 8] XTX (a 4 TB XTX expected) is refused before any allocation" \
    "/xtx/$T is \[8, 8\], expected \[1048576, 1048576\]" \
    mpirun_rf 2 run --model "$WORK/wide.safetensors" --xtx "$WORK/wide.h5" --out "$WORK/m1" "${QUICK[@]}"
expect_error "plan refuses it too" "$T \[8, 1048576\]: AQLM $BYTES" \
    "$RIVERFORGE" plan --model "$WORK/wide.safetensors" --gflops 1 "${QUICK[@]}"
write_st "$WORK/huge.safetensors" "$(one $T 200000,200000 160000000000)" 160000000000
expect_error "run: [200000, 200000] is refused naming the tensor and the bytes" \
    "$T \[200000, 200000\]: AQLM $BYTES" \
    mpirun_rf 2 run --model "$WORK/huge.safetensors" --out "$WORK/m2" "${QUICK[@]}"
expect_error "plan refuses it too" "$T \[200000, 200000\]: AQLM $BYTES" \
    "$RIVERFORGE" plan --model "$WORK/huge.safetensors" --gflops 1 "${QUICK[@]}"
check "plan prints the predicted peak memory per rank" \
    sh -c "'$RIVERFORGE' plan --model '$M' --gflops 1 ${QUICK[*]} | grep -qE '^predicted peak memory per rank: [0-9.]+ (MiB|GiB) \(model.layers'"

# ---- names that cannot be shard files ----
V="../../../x/encoder.layers"
write_st "$WORK/escape.safetensors" "{\"$T.weight\":{\"dtype\":\"F32\",\"shape\":[16,32],\"data_offsets\":[0,2048]},\
\"$V.0.mlp.fc1.weight\":{\"dtype\":\"F32\",\"shape\":[16,16],\"data_offsets\":[2048,3072]},\
\"$V.1.mlp.fc1.weight\":{\"dtype\":\"F32\",\"shape\":[16,16],\"data_offsets\":[3072,4096]}}" 4096 1.0
mkdir -p "$WORK/n/a"
expect_error "a vision tensor named ../../../x/... is refused naming it" \
    "tensor \.\./\.\./\.\./x/encoder\.layers\.1\.mlp\.fc1: " \
    mpirun_rf 2 run --model "$WORK/escape.safetensors" --out "$WORK/n/a/out" --vit-share 0:1 "${QUICK[@]}"
check "before any work: no shard, nothing outside --out" test ! -e "$WORK/n/a/out/shards" -a ! -e "$WORK/n/x"
LONG=model.layers.$(printf '0%.0s' $(seq 225)).mlp.up_proj # 250 characters
write_st "$WORK/long.safetensors" "$(one "$LONG" 16,32 2048)" 2048 1.0
expect_error "a 250-character tensor name is refused before work" \
    "tensor model\.layers\.0+.*: the name has 250 characters; a shard file name allows 248" \
    mpirun_rf 2 run --model "$WORK/long.safetensors" --out "$WORK/n/long" "${QUICK[@]}"
check "no shard was started" test ! -e "$WORK/n/long/shards"

finish
