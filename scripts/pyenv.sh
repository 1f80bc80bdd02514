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
# CPU only from PyPI alone: not possible. PyPI's torch for Linux x86_64 is the CUDA build (the CPU
# build is on PyTorch's own index, which CI cannot reach), and `pip install --no-deps torch` with
# only its pure-Python dependencies installs but does not import: libtorch links the CUDA
# libraries (cuBLAS, cuDNN, NCCL, ...) at load time, GPU or not. So the environment carries them
# (3.1 GB of nvidia-* packages), and saves what can be saved: triton (1 GB, GPU kernel compiler)
# is left out, pip resolves nothing (--no-deps on a complete pinned list) and compiles no .pyc.
#
# Size and time, built from scratch with no pip cache (PIP_NO_CACHE_DIR=1), Debian 12 VM with
# 2 cores shared with other builds (load average 11-20), PyPI over the network:
#   as installed here (--no-deps --no-compile, no triton)   222 s   4.7 GB
#   plain `pip install` of the same pins with triton         426 s   6.0 GB
#   the same with --no-compile                               366 s   5.7 GB
# Of the 4.7 GB: nvidia-* 3.1 GB, torch 1.2 GB, llvmlite (numba) 0.17 GB, transformers 0.13 GB,
# scipy 0.11 GB.
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
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
        -r "$req" >&2
    touch "$dir/.complete"
fi
echo "$dir"
