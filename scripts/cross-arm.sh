#!/usr/bin/env bash
# cross-arm.sh [BUILD_DIR] -- the kernels on 64-bit Arm without an Arm machine: installs the cross
# parts if missing (install-deps.sh --arm64: Debian's aarch64 cross compiler, arm64 OpenBLAS and
# cmocka, qemu-user), configures BUILD_DIR (default build-arm64/) with cmake/aarch64-linux-gnu.cmake
# and RF_KERNELS_ONLY (common/, kernels/, their unit tests and the kernel benchmarks), builds, and
# runs the unit tests under qemu-aarch64 (ctest runs them through CMAKE_CROSSCOMPILING_EMULATOR).
# Extra ctest arguments go in RF_CTEST_ARGS (e.g. "-R aqlm").
#
# Under qemu every vector instruction is emulated: the tests check results, never speed (a native
# Arm machine would be needed for timings). Two OpenMP threads, as the native unit tests run, so
# that the parallel loops and OpenBLAS's OpenMP build run threaded on Arm too. The x86
# OPENBLAS_CORETYPE advice (blas-core.sh) means nothing to Arm's OpenBLAS: it is dropped.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BUILD=$(realpath -m "${1:-$ROOT/build-arm64}")
"$ROOT/scripts/install-deps.sh" --arm64
start=$SECONDS
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" \
      -DRF_KERNELS_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
built=$SECONDS
# NEON: the GNU vector-type loops must become vector FMAs (fmla on four float lanes; on two double
# lanes for the complex128 state vector), not scalar code. neon LIB SHAPE...: LIB's aarch64 code
# holds fmla on each SHAPE (4s, 2d).
neon() {
    local lib=$BUILD/kernels/$1 s n
    shift
    for s in "$@"; do
        n=$(aarch64-linux-gnu-objdump -d "$lib" | grep -cE "fmla[[:space:]]+v[0-9]+\.$s") || true
        [ "$n" -gt 0 ] || { echo "cross-arm: no NEON fmla .$s in $lib: scalar code" >&2; exit 1; }
        echo "cross-arm: $(basename "$lib"): $n fmla .$s"
    done
}
neon aqlm/librf_aqlm.a 4s
neon statevec/librf_statevec.a 4s 2d
neon vitgen/librf_vitgen.a 4s
unset OPENBLAS_CORETYPE
export OMP_NUM_THREADS=2
# shellcheck disable=SC2086 # RF_CTEST_ARGS is a list of arguments
(cd "$BUILD" && ctest -j"$(nproc)" --no-tests=error --output-on-failure ${RF_CTEST_ARGS:-})
echo "cross-arm: aarch64 build $((built - start)) s, tests under qemu $((SECONDS - built)) s"
