#!/usr/bin/env bash
# riverforge's decoder forward pass and `eval`, proven with the real client: check_decoder.py
# makes a tiny random Qwen3, Llama and Qwen2 with transformers and compares riverforge's logits
# (eval --dump-logits) and perplexity with transformers' on a fixed batch, riverforge running on
# 2 ranks. The Python environment comes from scripts/pyenv.sh (cached outside the checkout, built
# from PyPI on a fresh machine): when it cannot be built the test fails, it does not skip.
. "$(dirname "$0")/../fixtures/lib.sh"
. "$(dirname "$0")/python_env.sh"

echo "# check_decoder.py"
if "$PYENV/bin/python" "$(dirname "$0")/check_decoder.py" --work "$WORK" \
    --riverforge "mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS $RIVERFORGE" \
    >"$WORK/py.log" 2>&1; then
    ok "check_decoder.py"
else
    not_ok "check_decoder.py"
fi
grep -E '^(not )?ok - ' "$WORK/py.log" | sed 's/^/    /'
grep -vE '^(not )?ok - |Writing model shards|Loading weights' "$WORK/py.log" | tail -15 | sed 's/^/    /' || true
finish
