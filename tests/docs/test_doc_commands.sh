#!/usr/bin/env bash
# test_doc_commands.sh [--slurm] [FILE.md...] -- runs every command that README.md and docs/*.md
# show, so that the docs cannot rot (FILE.md...: only those files, paths relative to the source
# tree, e.g. docs/usage.md; for a developer checking the docs of one change).
#
# What runs: the fenced blocks whose info string is `sh`; every other block (`text`: synopses,
# file layouts, formats) is left alone. A block's lines run one by one, in the file's order; a line
# ending in a backslash goes on with the next, comment lines are skipped. Each file runs in one
# shell of its own (a variable one block sets is seen by the next), in a fresh scratch folder
# holding what the commands refer to: build/ (the build folder), scripts/, jobscripts/, tests/ and
# data/ (the source tree's), ../shared/cases (RF_CASES_DIR), and on PATH `riverforge` and the
# benchmarks as built. The environment is the tests' (tests/fixtures/lib.sh: MPI as root,
# oversubscription).
#
# Python: the docs run scripts/tokenize.py as users do, with the interpreter of the project's
# environment (`PY=$(scripts/pyenv.sh)/bin/python`), which scripts/pyenv.sh builds the first time
# (minutes; cached outside the checkout, shared with tests/python). When it cannot be built, that
# command fails, as tests/python's do: the docs promise the path works.
#
# The iteration budget: commands run as shown, except that the long ones get flags appended, so
# that CI stays fast. Later flags override earlier ones: every flag the docs show is still parsed
# and used, only the amount of work shrinks.
#   riverforge run and riverforge sweep, however invoked (riverforge, $B, build/mpi/riverforge,
#   under mpirun), and the jobscripts (their arguments are run's):
#                   --max_epochs 1 --steps_per_epoch 2 --init_max_iter 2,
#       and --gen-steps 2 when the command shares vision blocks (--vit-share) or runs the embedded
#       default (no --model); a --gen-* flag without sharing is refused.
#   bench_aqlm      --epochs 1 --steps 2 --init_iter 2
#   bench_statevec  --nmin 16 --nmax 17 --reps 1
#   bench_qgp       --reps 1 --steps 1 --shapes qkv
#   bench_simd      --reps 1 --n 1024
#   bench_decoder   --seqlen 128 --reps 1
# The flags go at the end, after a trailing comment is removed: such a command must end with its
# own flags (no pipe or redirection after them).
#
# Slurm: a block with an sbatch command needs a cluster. Without --slurm such blocks are skipped;
# with --slurm only they run (tests/slurm/test_slurm.sh calls this once its cluster is up), and
# after each sbatch the harness waits for the job (tests/slurm/job-wait.sh): it must complete with
# exit code 0.
#
# Not run: scripts/quickstart.sh and scripts/test.sh, the README's quick start. test.sh runs the
# test suite, which runs this test, and quickstart.sh builds into the source tree; .ci/run runs
# both on a clean clone. Nor scripts/test-sanitizers.sh and scripts/fuzz-briefly.sh
# (docs/fuzzing.md): each builds the project again into the source tree and runs for minutes;
# .ci/run runs them after test.sh. Nor scripts/cross-arm.sh (the Arm build under qemu, minutes):
# the suite's cross test (tests/cross) runs it.
#
# A failing command fails the test with its file, line and output; the rest of that file is skipped
# (its commands build on the failed one). Every command's time is printed.
. "$(dirname "$0")/../fixtures/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SLURM=0
if [ "${1:-}" = --slurm ]; then SLURM=1; shift; fi

# Tools on PATH, as users have them after installing the build.
mkdir -p "$WORK/bin" "$WORK/shared"
ln -s "$RIVERFORGE" "$WORK/bin/riverforge"
for b in bench_aqlm bench_statevec bench_qgp bench_simd bench_decoder; do ln -s "$BUILD_DIR/benchmarks/$b" "$WORK/bin/$b"; done
ln -s "${RF_CASES_DIR:-$SRC/../shared/cases}" "$WORK/shared/cases"
export PATH=$WORK/bin:$PATH

# doc_commands FILE: one line per command of FILE's sh blocks, "LINE SLURM COMMAND" (SLURM is 1
# for every command of a block that runs sbatch), continued lines joined; "LINE bare -" for a
# fence without an info string.
doc_commands() {
    awk '
    function flush_block(   i) {
        for (i = 1; i <= n; i++) print line[i], slurm + 0, cmd[i]
        n = 0; slurm = 0
    }
    /^```/ {
        if (fence) { if (sh) flush_block(); fence = 0; sh = 0; next }
        if ($0 == "```") { print NR, "bare", "-"; }
        fence = 1; sh = ($0 == "```sh"); next
    }
    !sh { next }
    {
        text = $0
        if (cont) { cmd[n] = cmd[n] " " text } else {
            if (text ~ /^[ \t]*(#|$)/) next
            n++; line[n] = NR; cmd[n] = text
        }
        cont = sub(/[ \t]*\\$/, "", cmd[n])
        if (text ~ /(^|[ \t;&|(])sbatch[ \t]/) slurm = 1
    }' "$1"
}

# budget_flags COMMAND: the flags the iteration budget appends to COMMAND (nothing for most).
budget_flags() {
    local c=" $1 "
    if [[ $c =~ (riverforge|\$B|\$\{B\})\"?[[:space:]]+(run|sweep)[[:space:]] || $c =~ jobscripts/[a-z-]+\.sbatch[[:space:]] ]]; then
        local f="--max_epochs 1 --steps_per_epoch 2 --init_max_iter 2"
        if [[ $c == *" --vit-share"* || $c != *" --model"* ]]; then f+=" --gen-steps 2"; fi
        echo "$f"
    elif [[ $c =~ [[:space:]/]bench_aqlm[[:space:]] ]]; then
        echo "--epochs 1 --steps 2 --init_iter 2"
    elif [[ $c =~ [[:space:]/]bench_statevec[[:space:]] ]]; then
        echo "--nmin 16 --nmax 17 --reps 1"
    elif [[ $c =~ [[:space:]/]bench_qgp[[:space:]] ]]; then
        echo "--reps 1 --steps 1 --shapes qkv"
    elif [[ $c =~ [[:space:]/]bench_simd([[:space:]]|$) ]]; then
        echo "--reps 1 --n 1024"
    elif [[ $c =~ [[:space:]/]bench_decoder[[:space:]] ]]; then
        echo "--seqlen 128 --reps 1"
    fi
}

# with_budget COMMAND: COMMAND with its budget flags appended (exit 1: it does not end with its
# flags, so they cannot be appended).
with_budget() {
    local c=$1 flags
    flags=$(budget_flags "$c")
    [ -n "$flags" ] || { echo "$c"; return; }
    if [[ $c =~ ^(.*[^[:space:]])[[:space:]]+#[^\'\"]*$ ]]; then c=${BASH_REMATCH[1]}; fi
    if [[ $c =~ [\|\<\>\;] ]]; then echo "$c"; return 1; fi
    echo "$c $flags"
}

# wait_job SUBMIT_LOG: waits for the job sbatch reported in SUBMIT_LOG; fails unless it completed.
wait_job() {
    local id
    id=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p; s/^\([0-9][0-9]*\)\(;.*\)\{0,1\}$/\1/p' "$1" | tail -n1)
    [ -n "$id" ] || { echo "no job id in sbatch's output"; return 1; }
    "$SRC/tests/slurm/job-wait.sh" "$id" 600 && return 0
    tail -n 20 riverforge-"$id"*.out 2>/dev/null
    return 1
}

# run_file FILE: FILE's commands in a fresh scratch folder, in a subshell of their own that, like a
# user's shell, has no errexit or nounset. Prints ok / not ok / skip lines; fails at the first
# failing command.
run_file() (
    set +euo pipefail
    local rel=$1 scratch=$WORK/scratch-${1//\//-} _line _slurm _cmd _start _rc
    mkdir -p "$scratch"
    cd "$scratch" || return 1
    ln -s "$BUILD_DIR" build
    for d in scripts jobscripts tests data; do ln -s "$SRC/$d" "$d"; done
    while read -r _line _slurm _cmd <&3; do
        if [ "$_slurm" = bare ]; then # checked once, without --slurm
            [ "$SLURM" = 1 ] && continue
            echo "not ok - $rel:$_line: a fenced block without an info string (sh: runs; text: does not)"
            return 1
        fi
        case "$_cmd" in
        scripts/quickstart.sh* | scripts/test.sh*)
            echo "skip - $rel:$_line: $_cmd (the test suite cannot run itself; .ci/run runs it on a clean clone)"
            continue ;;
        scripts/test-sanitizers.sh* | scripts/fuzz-briefly.sh*)
            echo "skip - $rel:$_line: $_cmd (its own build and minutes of running; .ci/run runs it)"
            continue ;;
        scripts/cross-arm.sh*)
            echo "skip - $rel:$_line: $_cmd (the cross test runs it: ctest -L cross)"
            continue ;;
        esac
        if [ "$_slurm" != "$SLURM" ]; then
            [ "$SLURM" = 1 ] || echo "skip - $rel:$_line: $_cmd (needs a Slurm cluster: tests/slurm/test_slurm.sh runs it)"
            continue
        fi
        if ! _cmd=$(with_budget "$_cmd"); then
            echo "not ok - $rel:$_line: cannot append the budget flags after a pipe or redirection: $_cmd"
            return 1
        fi
        _start=$SECONDS
        _rc=0
        eval "$_cmd" >"$WORK/cmd.log" 2>&1 </dev/null || _rc=$?
        if [ "$_rc" -eq 0 ] && [[ " $_cmd " == *" sbatch "* ]]; then
            wait_job "$WORK/cmd.log" >>"$WORK/cmd.log" 2>&1 || _rc=$?
        fi
        if [ "$_rc" -ne 0 ]; then
            echo "not ok - $rel:$_line: exit code $_rc: $_cmd"
            tail -n 30 "$WORK/cmd.log" | sed 's/^/    /'
            echo "    (the rest of $rel is skipped: its commands build on this one)"
            return 1
        fi
        echo "ok - $rel:$_line ($((SECONDS - _start)) s): $_cmd"
    done 3< <(doc_commands "$SRC/$rel")
)

DOC_FILES=("$@")
if [ $# -eq 0 ]; then
    DOC_FILES=(README.md)
    for p in "$SRC"/docs/*.md; do DOC_FILES+=("${p#"$SRC/"}"); done
fi
for rel in "${DOC_FILES[@]}"; do
    if [ ! -f "$SRC/$rel" ]; then
        echo "not ok - $rel: no such file in the source tree" | tee -a "$WORK/results"
        continue
    fi
    run_file "$rel" | tee -a "$WORK/results" || true
done
passed=$(grep -c '^ok - ' "$WORK/results" || true)
failed=$(grep -c '^not ok - ' "$WORK/results" || true)
[ "$passed" -gt 0 ] || not_ok "no command ran"
finish
