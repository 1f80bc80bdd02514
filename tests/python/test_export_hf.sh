#!/usr/bin/env bash
# riverforge export --format aqlm-hf, proven with the real client: a synthetic Qwen3 quantized 2x8
# (every matrix) and 1x16 (k_proj and v_proj: 1x16 needs 65536 groups per matrix, and these are
# 512x1024 = 65536 groups of 8; the other matrices stay dense), each dequantized and exported, then
# check_export.py loads both with transformers and compares their logits, and reads the checkpoint
# with h5py. The Python environment comes from scripts/pyenv.sh (cached outside the checkout, built
# from PyPI on a fresh machine): when it cannot be built the test fails, it does not skip.
. "$(dirname "$0")/../fixtures/lib.sh"
. "$(dirname "$0")/python_env.sh"

# aqlm 1.1.7's CPU kernel for 8-bit codebooks (numba_kernel.py) adds into one output vector from
# a parallel loop over input groups: with more than one numba thread the additions race and the
# logits come out wrong (max |diff| 1.8 of 2.5 on 2 threads). One thread is exact.
export NUMBA_NUM_THREADS=1

M=$WORK/model
"$RIVERFORGE" synth --out "$M" --layers 1 --hidden 1024 --intermediate 1024 --heads 8 --kv-heads 4 \
    --head-dim 128 --vocab 512 >/dev/null
BUDGET=(--in_group_size 8 --max_epochs 1 --steps_per_epoch 2 --init_max_iter 2)
# The two configurations laid out as jobscripts/sweep-array.sbatch lays out a sweep.
S=$WORK/sweep
check "2x8 run" mpirun_rf 2 run --model "$M" --xtx "$M/xtx.h5" --out "$S/config-0" \
    --num_codebooks 2 --nbits_per_codebook 8 "${BUDGET[@]}"
check "1x16 run on k_proj and v_proj" mpirun_rf 2 run --model "$M" --xtx "$M/xtx.h5" \
    --out "$S/config-1" --num_codebooks 1 --nbits_per_codebook 16 "${BUDGET[@]}" --only '[kv]_proj'

for i in 0 1; do
    C=$S/config-$i
    check "config-$i: dequantize" "$RIVERFORGE" dequantize --checkpoint "$C/checkpoint.h5" --out "$C/dense"
    check "config-$i: export --format aqlm-hf" "$RIVERFORGE" export --checkpoint "$C/checkpoint.h5" \
        --model "$M" --out "$C/hf" --format aqlm-hf
    echo "# config-$i: transformers and h5py (check_export.py)"
    if "$PYENV/bin/python" "$(dirname "$0")/check_export.py" --model "$M" --dense "$C/dense" \
        --export "$C/hf" --checkpoint "$C/checkpoint.h5" --work "$C" >"$WORK/py.log" 2>&1; then
        ok "config-$i: check_export.py"
    else
        not_ok "config-$i: check_export.py"
    fi
    grep -E '^(not )?ok - ' "$WORK/py.log" | sed 's/^/    /'
    grep -vE '^(not )?ok - ' "$WORK/py.log" | tail -15 | sed 's/^/    /'
done
finish
