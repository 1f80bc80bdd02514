/* task_exec.h -- one task of a run from start to end: its weights converted to float32 (and its
 * XTX read), the kernel (rf_aqlm_quantize for an AQLM task, rf_gen_train for a VIT task), and its
 * shard committed atomically as OUT/shards/NAME.h5. No MPI: the driver (mpi/driver.h) decides
 * which rank runs which task; this runs it on the calling rank.
 */
#ifndef RF_TASK_EXEC_H
#define RF_TASK_EXEC_H

#include "io/xtx_file.h"
#include "kernels/progress.h"
#include "shards/tasks.h"

typedef struct {
    const rf_st_model *model;
    rf_xtx_file *xtx;            /* NULL: the plain weight MSE (XTX = I) */
    const char *xtx_path;        /* its file, for messages */
    const rf_aqlm_config *aqlm;  /* AQLM tasks */
    const rf_gen_config *gen;    /* VIT tasks */
    const char *out_dir;
    const char *config_json;     /* stored in every shard: what resume verifies against */
} rf_task_context;

/* Runs t and commits its shard; stats receive its numbers (aqlm or vit by t->kind). Logs the start,
 * the loss after each epoch and the result to this rank's log. Returns RF_OK, or RF_CANCELLED
 * when progress asked to stop (no shard is written). A user error found inside the task (a weight
 * that is not finite, an XTX that fails its checks, a full disk) cannot be passed to the other
 * ranks: it ends the job with its line (rf_die_user). An XTX must also be positive
 * semi-definite (shards/xtx_check.h), and a matrix whose relative error is undefined (all zero,
 * or in the null space of its XTX) is refused rather than reported with an error of 0. */
int rf_task_execute(const rf_task_context *c, const rf_task *t, rf_task_stats *stats,
                    rf_progress_fn progress, void *progress_ctx);

#endif
