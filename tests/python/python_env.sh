# python_env.sh -- shared by the tests of the Python clients, sourced after tests/fixtures/lib.sh:
# SRC (the source tree) and PYENV (the virtual environment scripts/pyenv.sh builds, or finds in its
# cache outside the checkout). When it cannot be built the test fails, it does not skip.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if PYENV=$(bash "$SRC/scripts/pyenv.sh" 2>"$WORK/pyenv.log"); then
    ok "the Python environment ($PYENV)"
else
    not_ok "scripts/pyenv.sh could not build the Python environment"
    tail -20 "$WORK/pyenv.log" | sed 's/^/    /'
    finish || exit 1
fi
