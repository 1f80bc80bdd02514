/* run_core.h -- the construction run over MPI ranks that `run` and `sweep` share: K AQLM
 * configurations of one model in one task queue (`run` is K = 1).
 *
 *   shared     the model's headers and config.json, the XTX file (probed by rank 0 in a child
 *              process, every needed shape checked, fingerprinted once), the rank logs
 *              (RUN_OUT/logs), the progress line, the stop signals
 *   per config its output folder (shards/, logs/, manifest.json, summary.json/csv,
 *              checkpoint.h5: shards/run_output.h), its configuration JSON (with the sweep's
 *              --override when it has one: a shard verifies only against the same overrides),
 *              its task list with each matrix's own AQLM configuration, its resume and its
 *              assembly
 *   queue      every (configuration, task) pair, largest predicted cost first (ties: configuration
 *              order, then the configuration's task order), run by the driver (driver.h). A
 *              task's seed depends only on --seed and the matrix name, so a configuration's
 *              codes equal those of a plain `run` with its flags.
 *
 * The caller parses the flags and holds the lock on every folder the run writes
 * (shards/out_lock.h) before calling. run_prepare.c prepares, run_core.c runs (run_state.h).
 */
#ifndef RF_RUN_CORE_H
#define RF_RUN_CORE_H

#include <stdint.h>

#include "mpi/cli.h"
#include "mpi/run_eval.h"
#include "shards/sweep_grid.h"

typedef struct {
    char name[RF_SWEEP_NAME_LEN]; /* the sweep's name of the configuration; "" for a run */
    char out[4096];               /* its output folder */
    rf_aqlm_config cfg;           /* every matrix's when sweep is NULL */
    const rf_sweep *sweep;        /* else matrix NAME gets rf_sweep_matrix_config(sweep, index) */
    int index;
} rf_run_config;

typedef struct {
    const char *model, *xtx, *only; /* xtx NULL: the plain weight MSE */
    const char *out;                /* the run's folder: the logs; a sweep's holds the configs' */
    const char *overrides;          /* --override as given (recorded in the configuration JSON) */
    const rf_vit_share *vit;
    uint64_t seed;
    double progress_interval;
    const rf_eval_flags *eval;      /* --eval-tokens (run_eval.h); tokens NULL: none */
    const rf_opt *opts;             /* the command's flags, to name one in an error */
    int nopts;
    int nconfigs;
    const rf_run_config *configs;
} rf_run_spec;

/* Collective: prepares (a bad input stops every rank with one line), resumes, runs the queue and
 * lets rank 0 write each configuration's summary and, when its tasks are all done, assemble its
 * checkpoint; with --eval-tokens, once every checkpoint is assembled, the ranks add the
 * perplexities to the summaries (run_eval.h). Returns the exit code on every rank: RF_EXIT_OK, RF_EXIT_USAGE (bad input, or a
 * file that cannot be written; rank 0 printed the line), RF_EXIT_INTERRUPTED (a stop signal
 * came: a rerun resumes every configuration). */
int rf_run_core(const rf_run_spec *spec, double start);

#endif
