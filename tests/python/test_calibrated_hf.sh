#!/usr/bin/env bash
# Issue 10's acceptance check: statistics from `riverforge calibrate` give a better quantized model
# than the plain weight MSE. check_calibrated.py trains a tiny Qwen3 with transformers on the
# shipped calibration text, then calibrates, quantizes with and without --xtx and evaluates through
# the real binary on 2 ranks (its header says what each check is). The byte-level tokenizer comes
# from `riverforge synth`. The Python environment comes from scripts/pyenv.sh: when it cannot be
# built the test fails, it does not skip.
. "$(dirname "$0")/../fixtures/lib.sh"
. "$(dirname "$0")/python_env.sh"

check "synth writes the byte-level tokenizer" "$RIVERFORGE" synth --out "$WORK/tok" --layers 1 \
    --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 --head-dim 32

echo "# check_calibrated.py"
if "$PYENV/bin/python" "$(dirname "$0")/check_calibrated.py" --work "$WORK" --tokenizer "$WORK/tok" \
    --tokenize "$SRC/scripts/tokenize.py" --calib "$SRC/data/devils-dictionary.calib.txt" \
    --eval "$SRC/data/devils-dictionary.eval.txt" \
    --riverforge "mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS $RIVERFORGE" \
    >"$WORK/py.log" 2>&1; then
    ok "check_calibrated.py"
else
    not_ok "check_calibrated.py"
fi
grep -E '^((not )?ok - |# )' "$WORK/py.log" | sed 's/^/    /'
{ grep -vE '^((not )?ok - |# |$)|Writing model shards|Loading weights' "$WORK/py.log" || true; } | tail -15 | sed 's/^/    /'
finish
