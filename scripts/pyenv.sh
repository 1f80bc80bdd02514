#!/usr/bin/env bash
# pyenv.sh -- creates (when missing) and prints the path of the Python virtual environment that
# tests/python uses: transformers, aqlm and torch, pinned in scripts/requirements-py.txt, from
# PyPI only. It lives outside the checkout, cached per requirements file:
#   ${RF_PYENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/riverforge/pyenv-<hash of requirements-py.txt>}
# so that a changed pin builds a new one and an unchanged one is built once per machine. A
# half-built environment (no .complete mark) is removed and built again; concurrent callers wait
# for each other (flock). Output: the path on stdout, pip's log on stderr. Exit 1 when it cannot
# be built (no python3 with venv, PyPI unreachable): the test that needs it fails then.
#
# Size and time (Debian 12, 2 cores, PyPI over the network, measured building from scratch):
# MEASURE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$here/requirements-py.txt
hash=$(sha256sum "$req" | cut -c1-12)
dir=${RF_PYENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/riverforge/pyenv-$hash}
mkdir -p "$(dirname "$dir")"

exec 9>"$dir.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    echo "pyenv.sh: building $dir from $req" >&2
    python3 -m venv "$dir" >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    touch "$dir/.complete"
fi
echo "$dir"
