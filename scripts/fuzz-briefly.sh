#!/usr/bin/env bash
# fuzz-briefly.sh [SECONDS [HARNESS...]] -- runs each libFuzzer harness of tests/fuzz for SECONDS
# (default 60: CI's share) from its seed corpus, built with clang-16 -fsanitize=fuzzer,address,
# undefined in build-fuzz/ (installs clang first: scripts/install-deps.sh --fuzz). HARNESS names
# some of them (safetensors st_index hf_config shard_gate h5_probe; default all).
#
# Inputs that reach new code are kept in build-fuzz/corpus/HARNESS (the checked-in seeds stay as
# they are); a failing input (crash, sanitizer report, failed check, leak, timeout) goes to
# build-fuzz/findings/ and fails the script, after the other harnesses ran. docs/fuzzing.md says
# how to replay one and how the long run went. RF_FUZZ_FLAGS adds libFuzzer flags (the long run:
# "-fork=1 -ignore_crashes=1" goes on past a finding); UBSAN_OPTIONS adds to the script's own.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(safetensors st_index hf_config shard_gate h5_probe)

scripts/install-deps.sh --fuzz
CC=clang-16 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRF_SANITIZE=ON \
    -DRF_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${HARNESSES[@]/#/fuzz_}" >/dev/null

# UBSan stops at its first report (the default prints and goes on). The harnesses start no MPI,
# so the leaks tests/sanitizers/lsan.supp suppresses do not happen here: every leak is a finding.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
export OMP_NUM_THREADS=1
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer # reports with file:line
mkdir -p build-fuzz/findings
failed=()
for h in "${HARNESSES[@]}"; do
    mkdir -p "build-fuzz/corpus/$h"
    # The probe's child may run to its 60 s limit on an input where HDF5 loops: libFuzzer's own
    # per-input limit must be longer than that, and such an input is not a slow-unit finding
    # (-report_slow_units: only inputs past the time limit, which are timeouts, count).
    timeout=$([ "$h" = h5_probe ] && echo 150 || echo 10)
    echo "fuzz-briefly: $h for $SECONDS_EACH s"
    rm -f "build-fuzz/findings/$h-"* # the findings of this run only
    # With -ignore_crashes libFuzzer exits 0 after a finding: the files it kept count too.
    if ! "build-fuzz/tests/fuzz/fuzz_$h" "build-fuzz/corpus/$h" "tests/fuzz/corpus/$h" \
        -max_total_time="$SECONDS_EACH" -timeout="$timeout" -report_slow_units="$timeout" \
        -rss_limit_mb=4096 \
        -artifact_prefix="build-fuzz/findings/$h-" -print_final_stats=1 ${RF_FUZZ_FLAGS:-} \
        >"build-fuzz/findings/$h.log" 2>&1 || compgen -G "build-fuzz/findings/$h-*" >/dev/null; then
        failed+=("$h")
        tail -n 40 "build-fuzz/findings/$h.log"
    fi
    # executions, coverage, corpus: the last status line (plain and -fork runs print different ones)
    grep -E '^#[0-9]+' "build-fuzz/findings/$h.log" | tail -n 1 || true
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz-briefly: failing inputs for ${failed[*]} in build-fuzz/findings/ (replay one: build-fuzz/tests/fuzz/fuzz_HARNESS FILE)"
    exit 1
fi
echo "fuzz-briefly: ${HARNESSES[*]}: nothing found in $SECONDS_EACH s each"
