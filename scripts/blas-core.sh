# blas-core.sh -- sourced by quickstart.sh, test.sh and test-sanitizers.sh after the build (of
# RF_BUILD_DIR, default build/). OpenBLAS picks its kernels from the CPU's model number and falls
# back to very old ones for a model it does not know (a newer CPU, some virtual machines);
# riverforge --version names the kernels that fit. Unless OPENBLAS_CORETYPE is already set, use
# them. The table and the advice are x86's.
[ "$(uname -m)" = x86_64 ] || return 0
advice=$("${RF_BUILD_DIR:-build}"/mpi/riverforge --version | sed -n 's/.*set OPENBLAS_CORETYPE=\([A-Z0-9]*\).*/\1/p')
if [ -n "$advice" ] && [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    echo "$(basename "$0"): OpenBLAS does not recognize this CPU; using OPENBLAS_CORETYPE=$advice" >&2
    export OPENBLAS_CORETYPE=$advice
fi
