#!/usr/bin/env bash
# Tokens: the byte-level tokenizer `riverforge synth` writes, loaded by the real tokenizers and
# transformers, and scripts/tokenize.py on the shipped text (data/), its output checked against the
# tokenizer's own encoding, and its bad input (check_tokens.py says what each check is). The Python
# environment comes from scripts/pyenv.sh, as for test_export_hf.sh: when it cannot be built the
# test fails, it does not skip.
. "$(dirname "$0")/../fixtures/lib.sh"
. "$(dirname "$0")/python_env.sh"

M=$WORK/model
check "synth writes a model" "$RIVERFORGE" synth --out "$M" --layers 1 --hidden 64 --intermediate 128 \
    --heads 2 --kv-heads 1 --head-dim 32
check "with tokenizer.json and tokenizer_config.json" test -s "$M/tokenizer.json" -a -s "$M/tokenizer_config.json"
check "synth --vocab 64 into the same folder: no tokenizer (its ids would not fit)" \
    bash -c "'$RIVERFORGE' synth --out '$WORK/small' --layers 1 --hidden 64 --intermediate 128 --heads 2 \
        --kv-heads 1 --head-dim 32 && cp '$M'/tokenizer*.json '$WORK/small/' && '$RIVERFORGE' synth \
        --out '$WORK/small' --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
        --head-dim 32 --vocab 64 && test ! -e '$WORK/small/tokenizer.json' -a ! -e '$WORK/small/tokenizer_config.json'"

mkdir -p "$WORK/py"
if "$PYENV/bin/python" "$(dirname "$0")/check_tokens.py" --model "$M" --tokenize "$SRC/scripts/tokenize.py" \
    --calib "$SRC/data/devils-dictionary.calib.txt" --eval "$SRC/data/devils-dictionary.eval.txt" \
    --work "$WORK/py" >"$WORK/py.log" 2>&1; then
    ok "check_tokens.py"
else
    not_ok "check_tokens.py"
fi
grep -E '^(not )?ok - ' "$WORK/py.log" | sed 's/^/    /'
{ grep -vE '^((not )?ok - |$)' "$WORK/py.log" || true; } | tail -15 | sed 's/^/    /'
finish
