# lib.sh -- shared by the shell tests: paths, mpirun as users run it, and assertions.
# Usage: . lib.sh   (needs RIVERFORGE and TEST_TMP set by ctest, see tests/CMakeLists.txt)
set -euo pipefail

: "${RIVERFORGE:?RIVERFORGE must point at the riverforge binary}"
BUILD_DIR=$(dirname "$(dirname "$RIVERFORGE")")
CHECK_CHECKPOINT=$BUILD_DIR/tests/check_checkpoint
WORK=$(mktemp -d "${TEST_TMP:-/tmp}/rf-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# root inside containers and CI; more ranks than cores on small machines
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

passed=0
failed=0

mpirun_rf() { # mpirun_rf NP ARGS...: riverforge under mpirun with NP ranks
    local np=$1
    shift
    mpirun -np "$np" --oversubscribe --bind-to none -x OMP_NUM_THREADS "$RIVERFORGE" "$@"
}

# same_bytes A.h5 B.h5 N: both checkpoints hold N matrices whose codes, codebooks and scales are
# identical (h5diff without tolerance compares every value).
same_bytes() {
    local names n=0
    names=$(h5ls "$1/matrices" | awk '{print $1}')
    for name in $names; do
        for d in codes codebooks scales; do
            h5diff "$1" "$2" "/matrices/$name/$d" "/matrices/$name/$d" || return 1
            n=$((n + 1))
        done
    done
    [ "$n" -eq $((3 * $3)) ]
}

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@" >"$WORK/check.log" 2>&1; then ok "$what"; else not_ok "$what"; sed 's/^/    /' "$WORK/check.log" | tail -20; fi
}

# expect_error DESCRIPTION PATTERN COMMAND...: the command exits 2 and its stderr holds PATTERN
# (grep -E) on one line that starts with "riverforge: error:".
expect_error() {
    local what=$1 pattern=$2 rc=0
    shift 2
    "$@" >"$WORK/out.log" 2>"$WORK/err.log" || rc=$?
    if [ "$rc" -ne 2 ]; then
        not_ok "$what: exit code $rc, expected 2"
        sed 's/^/    /' "$WORK/err.log" | tail -5
    elif ! grep -E "^riverforge: error: .*$pattern" "$WORK/err.log" >/dev/null; then
        not_ok "$what: no error line matching '$pattern'"
        sed 's/^/    /' "$WORK/err.log" | tail -5
    else
        ok "$what ($(grep -m1 '^riverforge: error:' "$WORK/err.log"))"
    fi
}

finish() { # the closing line ctest and CI read
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
