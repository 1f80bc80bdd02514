#!/usr/bin/env bash
# install-deps.sh [--fuzz] -- the Debian 12 packages riverforge builds, runs and tests with (as
# root, or through sudo). Idempotent: installs only what is missing. --fuzz adds what
# scripts/fuzz-briefly.sh needs and the default build does not.
set -euo pipefail
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
if [ "${1:-}" = --fuzz ]; then
    PACKAGES+=(clang-16 libclang-rt-16-dev      # libFuzzer and clang's sanitizer runtimes
               libomp-16-dev                    # OpenMP for clang (the build needs it)
               llvm-16)                         # llvm-symbolizer: sanitizer reports with file:line
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "install-deps: installed ${missing[*]}"
fi
