/* run_output.h -- the output folder of a run:
 *
 *   OUT/shards/NAME.h5    one per task (tasks.h: rf_task_shard_path), written by task_exec.h
 *   OUT/logs/rank-N.log   each rank's log
 *   OUT/manifest.json     the model and configuration the shards belong to (manifest.h)
 *   OUT/summary.json/csv  the tasks done so far, and whether checkpoint.h5 was assembled
 *                         (io/summary.h)
 *   OUT/checkpoint.h5     every task's record, assembled once all are done (io/checkpoint.h)
 */
#ifndef RF_RUN_OUTPUT_H
#define RF_RUN_OUTPUT_H

#include "shards/tasks.h"

/* Creates OUT, OUT/shards and OUT/logs; RF_ERR naming --out or the folder. */
int rf_run_make_dirs(const char *out);

/* OUT/logs/rank-N.log */
void rf_run_log_path(const char *out, int rank, char *path, size_t len);

/* What the summary records about the run besides its tasks. */
typedef struct {
    const char *version, *model, *xtx, *out, *config_json;
    const char *model_type, *architecture; /* from config.json; NULL without one */
    const char *method;        /* the generator of the VIT tasks */
    int ranks, omp_threads;
    double seconds;
} rf_run_info;

/* Where each task stands at the end: who computed it (rank >= 0), -1 when an earlier run did,
 * -2 when it is not done; and its numbers when done. */
typedef struct {
    int rank;
    rf_task_stats stats;
} rf_task_outcome;

/* When every task is done, assembles OUT/checkpoint.h5 from the shards (every copied dataset read
 * back) and prints the result tables and a closing line to stdout; then writes OUT/summary.json
 * and summary.csv for the tasks done, with "complete" true only when the checkpoint was written
 * (io/summary.h). *complete says whether every task is done. RF_ERR (one line) when a file cannot
 * be written or a shard fails at assembly; the summary then says why (rf_summary_write_run). */
int rf_run_finish(const rf_run_info *info, const rf_task_list *tasks,
                  const rf_task_outcome *outcome, int *complete);

#endif
