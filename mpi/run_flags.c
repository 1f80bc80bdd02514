/* run_flags.c -- see run_flags.h. */
#include "mpi/run_flags.h"

#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"

static void print_help(const rf_run_flags *f) {
    rf_cli_help(stdout, "mpirun -np N riverforge run [--model DIR] [--out DIR] [flags]",
                "Quantizes every linear matrix of the language model with AQLM over MPI ranks,\n"
                "writes one shard per matrix under OUT/shards and assembles OUT/checkpoint.h5.\n"
                "With --vit-share A:B, block B of the vision tower reuses block A's matrices\n"
                "and a generator (qgp, paramgen, none) makes B's, committed under /vit/NAME.\n"
                "A rerun with the same --out resumes: verified shards are kept.\n"
                "With --eval-tokens FILE, the checkpoint's and the dense model's perplexity on\n"
                "FILE (checked before any work) go into summary.json.\n"
                "Without --model: an embedded synthetic Qwen3-shaped model (2 layers, hidden 256)\n"
                "with a quick 2x8 configuration (10 epochs x 20 steps), and a 4-block vision\n"
                "tower whose block 3 reuses block 2's matrices (--vit-share " RF_EMBEDDED_VIT_SHARE ").\n"
                "Exit codes: 0 done, 1 internal error, 2 bad input, 3 interrupted.",
                f->opts, RF_RUN_NUM_OPTS);
}

int rf_run_flags_parse(int argc, char **argv, int rank, rf_run_flags *f) {
    memset(f, 0, sizeof *f);
    /* --help lists AQLM's defaults, the ones a run with --model gets */
    f->embedded = !rf_cli_has(argc, argv, "--model") && !rf_cli_has(argc, argv, "--help") &&
                  !rf_cli_has(argc, argv, "-h");
    f->cfg = f->embedded ? rf_aqlm_config_quick() : rf_aqlm_config_default();
    f->out = "riverforge-out";
    f->device = "cpu";
    f->progress_interval = 10;
    const rf_opt own[7] = {
        {"--model", RF_OPT_STRING, &f->model, "DIR", "Hugging Face model directory or .safetensors file (default: an embedded synthetic model)"},
        {"--out", RF_OPT_STRING, &f->out, "DIR", "output directory: shards/, checkpoint.h5, summary.json, summary.csv, logs/"},
        {"--xtx", RF_OPT_STRING, &f->xtx, "FILE.h5", "calibration statistics /xtx/NAME (without: plain weight MSE)"},
        {"--only", RF_OPT_STRING, &f->only, "REGEX", "quantize only the matrices whose name matches"},
        {"--device", RF_OPT_STRING, &f->device, "cpu|cuda", "where the kernels run"},
        {"--seed", RF_OPT_U64, &f->seed, "S", "run seed; each task's seed mixes it with the task name"},
        {"--progress-interval", RF_OPT_DOUBLE, &f->progress_interval, "SEC", "seconds between progress lines"},
    };
    memcpy(f->opts, own, sizeof own);
    rf_cli_aqlm_opts(&f->cfg, f->opts + 7);
    rf_cli_vit_opts(&f->vit_flags, argc, argv, f->opts + 7 + RF_AQLM_NUM_OPTS);
    rf_eval_opts(&f->eval, f->opts + 7 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS);
    if (f->embedded) f->vit_flags.share = RF_EMBEDDED_VIT_SHARE;
    int rc = rf_cli_parse(argc, argv, "run", f->opts, RF_RUN_NUM_OPTS);
    if (rc == 1) {
        if (rank == 0) print_help(f);
        return 1;
    }
    if (rc == RF_OK && strcmp(f->device, "cpu") != 0)
        rc = strcmp(f->device, "cuda") == 0
                 ? rf_fail("--device cuda: this build of riverforge has no CUDA kernels yet; use --device cpu")
                 : rf_fail("--device '%s': expected cpu or cuda", f->device);
    if (rc == RF_OK && rf_cli_vit_finish(&f->vit_flags, &f->vit) != RF_OK)
        rc = rf_cli_flag_error(f->opts, RF_RUN_NUM_OPTS);
    if (rc == RF_OK) rc = rf_eval_flags_check(&f->eval);
    if (rc == RF_OK && f->progress_interval <= 0)
        rc = rf_fail("--progress-interval must be positive");
    return rc;
}
