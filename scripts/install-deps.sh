#!/usr/bin/env bash
# install-deps.sh -- the Debian 12 packages riverforge builds, runs and tests with (as root, or
# through sudo). Idempotent: installs only what is missing.
#   install-deps.sh          the native build, its tests and the Slurm test cluster
#   install-deps.sh --fuzz   that and what scripts/fuzz-briefly.sh needs (clang's libFuzzer)
#   install-deps.sh --arm64  instead, the aarch64 cross build of the kernels and their unit tests
#                            run under qemu-user (scripts/cross-arm.sh)
#   --check (last)           installs nothing: exit 0 when all is there, 1 naming what is missing
set -euo pipefail
CHECK=0
[ "${*: -1}" != --check ] || CHECK=1
PACKAGES=(build-essential cmake pkg-config
          openmpi-bin libopenmpi-dev            # MPI ranks
          libhdf5-openmpi-dev hdf5-tools        # checkpoints; h5diff/h5ls in the tests
          libopenblas-openmp-dev                # BLAS, OpenMP build: OMP_NUM_THREADS governs it
          libjansson-dev                        # JSON
          liblapacke-dev                        # LAPACKE: the Cholesky test of XTX (OpenBLAS's dpotrf)
          libxxhash-dev                         # XXH3-128: the whole-file checksums of shards
          libcmocka-dev                         # unit tests
          python3                               # the public-case test reads reference.json
          python3-venv                          # scripts/pyenv.sh: the export test's environment
          gnuplot-nox                           # riverforge report's plot (report.png)
          munge slurmctld slurmd slurm-client)  # the Slurm tests' private cluster
SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
if [ "${1:-}" = --fuzz ]; then
    PACKAGES+=(clang-16 libclang-rt-16-dev      # libFuzzer and clang's sanitizer runtimes
               libomp-16-dev                    # OpenMP for clang (the build needs it)
               llvm-16)                         # llvm-symbolizer: sanitizer reports with file:line
elif [ "${1:-}" = --arm64 ]; then
    # Debian's arm64 libraries install beside the native ones once dpkg knows the architecture.
    dpkg --print-foreign-architectures | grep -qx arm64 || [ $CHECK = 1 ] ||
        $SUDO dpkg --add-architecture arm64
    PACKAGES=(gcc-aarch64-linux-gnu                 # the cross compiler (C, OpenMP)
              libc6-dev-arm64-cross                 # its C library (only recommended by it)
              libopenblas-openmp-dev:arm64          # BLAS for aarch64, the OpenMP build as natively
              libcmocka-dev:arm64                   # the unit tests
              qemu-user)                            # qemu-aarch64 runs the tests on this machine
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ $CHECK = 1 ] && [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: missing ${missing[*]}"
    exit 1
elif [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "install-deps: installed ${missing[*]}"
fi
