#!/usr/bin/env bash
# Quality at equal configuration against the reference implementation: for every case directory
# under RF_CASES_DIR (model.safetensors + xtx.h5 + reference.json) and every configuration in
# its reference.json, riverforge's rel_act_err must be at most 1.05x the reference's.
. "$(dirname "$0")/../fixtures/lib.sh"
export OMP_NUM_THREADS=2
CASES=${RF_CASES_DIR:-}
if [ -z "$CASES" ] || ! ls "$CASES"/*/reference.json >/dev/null 2>&1; then
    echo "0 passed, 0 failed, 1 skipped (no cases in '${CASES}')"
    exit 0
fi
for ref in "$CASES"/*/reference.json; do
    case_dir=$(dirname "$ref")
    nruns=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"]))' "$ref")
    for ((i = 0; i < nruns; i++)); do
        # the run's flags, named as riverforge (and AQLM's main.py) name them
        read -r -a flags < <(python3 - "$ref" "$i" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["runs"][int(sys.argv[2])]["config"]
names = {"nc": "num_codebooks", "nbits": "nbits_per_codebook", "ig": "in_group_size",
         "og": "out_group_size", "beam": "beam_size", "epochs": "max_epochs",
         "steps": "steps_per_epoch", "tol": "relative_mse_tolerance", "init_iter": "init_max_iter"}
print(" ".join(f"--{names[k]} {v}" for k, v in c.items()))
PY
)
        out=$WORK/$(basename "$case_dir")-$i
        if ! mpirun_rf 1 run --model "$case_dir/model.safetensors" --xtx "$case_dir/xtx.h5" \
            --out "$out" "${flags[@]}" >"$out.log" 2>&1; then
            not_ok "$(basename "$case_dir") run $i: riverforge failed"
            tail -5 "$out.log"
            continue
        fi
        verdict=$(python3 - "$ref" "$i" "$out/summary.json" <<'PY'
import json, sys
ref = json.load(open(sys.argv[1]))["runs"][int(sys.argv[2])]
ours = json.load(open(sys.argv[3]))["tasks"][0]
ratio = ours["rel_act_err"] / ref["rel_act_err"]
print(f'{"ok" if ratio <= 1.05 else "bad"} rel_act_err {ours["rel_act_err"]:.5f} vs reference '
      f'{ref["rel_act_err"]:.5f} (x{ratio:.3f}), rel_w_err {ours["rel_w_err"]:.4f} vs '
      f'{ref["rel_w_err"]:.4f}, {ours["seconds"]:.1f} s vs {ref["seconds_cpu"]:.1f} s')
PY
)
        what="$(basename "$case_dir") ${flags[*]}: ${verdict#* }"
        if [ "${verdict%% *}" = ok ]; then ok "$what"; else not_ok "$what"; fi
    done
done
finish
