#!/usr/bin/env bash
# sweep --emit-array and report end to end: a grid of 4 configurations on a small synthetic model,
# 3 of them run by jobscripts/sweep-array.sbatch as array elements (with the arguments of the
# sbatch command sweep printed; Slurm's scontrol and srun stood in for, srun by mpirun); report
# compares them: one CSV row per run, bits per weight as each run's summary totals them, the front
# as a brute force over the CSV's own numbers finds it, an incomplete run kept off the front, the
# PNG a PNG; and the refusals of both commands (exit 2, one line naming what is wrong).
. "$(dirname "$0")/../fixtures/lib.sh"
cd "$WORK"

M=$WORK/m
"$RIVERFORGE" synth --out "$M" --layers 1 --hidden 64 --intermediate 128 --heads 2 --kv-heads 1 \
    --head-dim 32 --vocab 32 >/dev/null
BUDGET=(--max_epochs 2 --steps_per_epoch 4 --init_max_iter 4)

check "sweep --emit-array checks the grid and writes the configurations" \
    "$RIVERFORGE" sweep --model "$M" --xtx "$M/xtx.h5" --out sw \
    --grid "num_codebooks=1,2 nbits_per_codebook=4,6" --emit-array configs.txt "${BUDGET[@]}"
"$RIVERFORGE" sweep --model "$M" --xtx "$M/xtx.h5" --out sw \
    --grid "num_codebooks=1,2 nbits_per_codebook=4,6" --emit-array configs.txt "${BUDGET[@]}" >sweep.log
check "4 configuration lines" test "$(grep -vc '^[[:space:]]*\(#\|$\)' configs.txt)" -eq 4
check "named 1x4-g8 ... 2x6-g8" grep -q '^# config-3: 2x6-g8$' configs.txt
sbatch_line=$(grep '^ *sbatch ' sweep.log)
check "it prints the sbatch command for the 4 elements" \
    grep -q '^ *sbatch --array=0-3 jobscripts/sweep-array.sbatch configs.txt ' sweep.log

# Array elements as Slurm runs them: the real jobscripts/sweep-array.sbatch (its line selection,
# its --out OUT/config-i), with the sbatch command's arguments, and on PATH a scontrol that names
# the jobscript and an srun that starts its command under mpirun.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
eval "set -- $sbatch_line"
shift 4 # sbatch --array=... jobscripts/sweep-array.sbatch configs.txt
COMMON=("$@")
mkdir -p slurm-bin
printf '#!/bin/sh\necho "JobId=$4 Command=%s/jobscripts/sweep-array.sbatch"\n' "$SRC" >slurm-bin/scontrol
printf '#!/bin/sh\nshift # --mpi=pmix\nexec mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS "$@"\n' >slurm-bin/srun
chmod +x slurm-bin/scontrol slurm-bin/srun
run_element() {
    PATH=$WORK/slurm-bin:$PATH SLURM_JOB_ID=7 SLURM_ARRAY_TASK_ID=$1 \
        bash "$SRC/jobscripts/sweep-array.sbatch" configs.txt "${COMMON[@]}"
}
for i in 0 1 2; do check "array element $i runs its line as run flags" run_element "$i"; done

check "report compares the 3 runs" "$RIVERFORGE" report sw --out rep
"$RIVERFORGE" report sw --out rep >report.log
check "the table marks the front" grep -qE '^\*  +[12]x[46]-g8 ' report.log
check "report.csv has a header and 3 rows" test "$(wc -l <rep/report.csv)" -eq 4
check "report.md has both tables" grep -q '^## Per projection: mean rel_act_err' rep/report.md
check "report.png is a PNG" test "$(head -c 8 rep/report.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
check "report.gp redraws it" grep -q '^\$front << EOD' rep/report.gp

# Each row against its run's own summary.json, and the front by brute force over the rows.
check_csv() {
    python3 - "$1" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = sorted(r["name"] for r in rows)
assert names == ["1x4-g8", "1x6-g8", "2x4-g8"], names
for r in rows:
    s = json.load(open(r["folder"] + "/summary.json"))
    assert abs(float(r["bits_per_weight"]) - s["totals"]["bits_per_weight"]) < 1e-6, r["name"]
    assert abs(float(r["mean_rel_act_err"]) - s["totals"]["mean_rel_act_err"]) < 1e-6, r["name"]
    errs = [t["rel_act_err"] for t in s["tasks"] if t["kind"] == "aqlm"]
    assert abs(float(r["max_rel_act_err"]) - max(errs)) < 1e-6 and int(r["matrices"]) == 7
    assert r["perplexity"] == "", "no run records a perplexity"
pts = [(float(r["bits_per_weight"]), float(r["mean_rel_act_err"]), r["complete"] == "1") for r in rows]
for r, (x, y, ok) in zip(rows, pts):
    dominated = any(c and bx <= x and by <= y and (bx < x or by < y) for bx, by, c in pts)
    assert r["pareto"] == ("1" if ok and not dominated else "0"), (r["name"], r["pareto"])
print("ok", len(rows))
EOF
}
check "every row matches its summary; the front is the brute-force front" check_csv rep/report.csv

# An interrupted run stays in the table but off the front.
python3 - sw/config-2/summary.json <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); s["complete"] = False; json.dump(s, open(sys.argv[1], "w"))
EOF
"$RIVERFORGE" report sw --out rep2 --plot no >report2.log
check "an incomplete run is marked" grep -qE '^incomplete +2x4-g8 ' report2.log
check "and the front is recomputed without it" check_csv rep2/report.csv
check "--plot no draws nothing" test ! -e rep2/report.png

# Refusals: nothing written, one line.
expect_error "sweep without --grid names the required flags" "--grid, --model and --out are required" \
    "$RIVERFORGE" sweep --model "$M" --out sw2
expect_error "a group size that does not divide a matrix names the configuration and matrix" \
    "configuration 1x4-g48: model\.layers\.0\..* in_group_size 48 does not divide in_features (64|128)" \
    "$RIVERFORGE" sweep --model "$M" --out sw2 --grid "in_group_size=8,48 nbits_per_codebook=4" \
    --emit-array bad.txt
expect_error "nbits above 16 names the configuration" \
    "configuration 1x17-g8: .*nbits_per_codebook 17: must be between 1 and 16" \
    "$RIVERFORGE" sweep --model "$M" --out sw2 --grid "nbits_per_codebook=4,17" --emit-array bad.txt
expect_error "a setting in the grid and as a flag" \
    "--num_codebooks is given as a flag and in --grid" \
    "$RIVERFORGE" sweep --model "$M" --out sw2 --grid "num_codebooks=1,2" --num-codebooks 2 \
    --nbits_per_codebook 4 --emit-array bad.txt
expect_error "a base flag that does not fit names the flag" \
    "configuration 1x4-g8: .*--out_group_size 3 does not divide out_features" \
    "$RIVERFORGE" sweep --model "$M" --out sw2 --grid "nbits_per_codebook=4" --out_group_size 3 \
    --emit-array bad.txt
expect_error "--override cannot go into run flags" "--override cannot go with --emit-array" \
    "$RIVERFORGE" sweep --model "$M" --out sw2 --grid "num_codebooks=1" \
    --override 'k_proj:nbits_per_codebook=4' --emit-array bad.txt
check "no refused sweep wrote its file" test ! -e bad.txt
mkdir -p empty
expect_error "report of a folder without runs" "empty: no summary.json in it or in its subfolders" \
    "$RIVERFORGE" report empty --out rep3
head -c 100 sw/config-0/summary.json >sw/config-0/summary.json.cut
mv sw/config-0/summary.json.cut sw/config-0/summary.json
expect_error "report of a damaged summary names it" "sw/config-0/summary.json: not valid JSON" \
    "$RIVERFORGE" report sw --out rep3
check "and writes no report" test ! -e rep3/report.csv
expect_error "--plot yes without gnuplot" "--plot yes: gnuplot is not on PATH" \
    env PATH=/nonexistent "$RIVERFORGE" report sw/config-1 --out rep4 --plot yes
finish
