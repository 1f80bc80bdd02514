#!/usr/bin/env bash
# test.sh -- the README's second command: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
. scripts/blas-core.sh
cd build && ctest --output-on-failure "$@"
