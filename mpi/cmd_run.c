/* cmd_run.c -- `riverforge run`: one AQLM configuration of a model over MPI ranks.
 *
 *   flags      every rank parses them (run_flags.h); bad input stops all ranks with one line
 *   lock       rank 0 locks OUT, then the others join the lock (shards/out_lock.h): one run per OUT
 *   model      without --model, rank 0 writes the embedded default into OUT/default-model
 *   run        the shared driver of `run` and `sweep` (run_core.h) with one configuration: tasks,
 *              resume, the work over the ranks, summary.json/csv and checkpoint.h5 in OUT; a stop
 *              signal ends the run with RF_EXIT_INTERRUPTED and a rerun resumes
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/atomic_file.h"
#include "mpi/commands.h"
#include "mpi/driver.h"
#include "mpi/rf_mpi.h"
#include "mpi/run_core.h"
#include "mpi/run_flags.h"
#include "shards/out_lock.h"
#include "synth/synth.h"

/* The embedded default model lives in OUT/default-model; rank 0 writes it once. */
static int prepare_embedded_model(rf_run_flags *f, int rank, char *model_dir, char *xtx_path) {
    snprintf(model_dir, 4096, "%s/default-model", f->out);
    snprintf(xtx_path, 4096, "%.4000s/xtx.h5", model_dir);
    int rc = RF_OK;
    if (rank == 0) {
        char config[4200];
        snprintf(config, sizeof config, "%s/config.json", model_dir);
        rc = rf_make_dirs(f->out) != RF_OK ? rf_fail_prefix("--out: ") : RF_OK;
        if (rc == RF_OK && access(config, F_OK) != 0) {
            const rf_synth_spec spec = rf_synth_embedded();
            printf("riverforge: writing the embedded default model (synthetic Qwen3-shaped, %d layers, "
                   "hidden %d; vision tower of %d blocks, hidden %d) to %s\n",
                   spec.layers, spec.hidden, spec.vit_blocks, spec.vit_hidden, model_dir);
            rc = rf_synth_write(model_dir, &spec);
        }
    }
    f->model = model_dir;
    if (!f->xtx) f->xtx = xtx_path;
    return rf_mpi_agree(rc);
}

int rf_cmd_run(int argc, char **argv) {
    int rank, nranks;
    rf_run_flags f;
    rf_mpi_setup(&rank, &nranks);
    rf_driver_catch_signals();
    const double start = rf_now();
    const int rc = rf_run_flags_parse(argc, argv, rank, &f);
    if (rc == 1) return RF_EXIT_OK;
    if (rf_mpi_agree(rc) != RF_OK) return RF_EXIT_USAGE;
    /* One run at a time on OUT, before anything is written there: rank 0 first, then the others
     * (shards/out_lock.h); every rank holds it until it exits. */
    if (rf_mpi_agree(rank == 0 ? rf_out_lock_take(f.out, nranks) : RF_OK) != RF_OK ||
        rf_mpi_agree(rank == 0 ? RF_OK : rf_out_lock_join(f.out)) != RF_OK)
        return RF_EXIT_USAGE;
    char model_dir[4096], xtx_path[4096];
    if (f.embedded && prepare_embedded_model(&f, rank, model_dir, xtx_path) != RF_OK)
        return RF_EXIT_USAGE;
    rf_run_config config = {.cfg = f.cfg};
    snprintf(config.out, sizeof config.out, "%s", f.out);
    const rf_run_spec spec = {.model = f.model, .xtx = f.xtx, .only = f.only, .out = f.out,
                              .vit = &f.vit, .seed = f.seed, .eval = &f.eval,
                              .progress_interval = f.progress_interval, .opts = f.opts,
                              .nopts = RF_RUN_NUM_OPTS, .nconfigs = 1, .configs = &config};
    return rf_run_core(&spec, start);
}
