#!/usr/bin/env bash
# test_cross_arm.sh BUILD_DIR -- scripts/cross-arm.sh into BUILD_DIR: the kernels and their unit
# tests cross-built for aarch64 and run under qemu-user. Skipped (exit 77) where the cross parts
# are not installed (scripts/install-deps.sh --arm64 installs them; CI does, .ci/run).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if ! "$SRC/scripts/install-deps.sh" --arm64 --check; then
    echo "skip - the aarch64 cross build: its parts are not installed (scripts/install-deps.sh --arm64)"
    exit 77
fi
exec "$SRC/scripts/cross-arm.sh" "$1"
