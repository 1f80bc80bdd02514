/* driver.h -- the distributed work loop of the commands that run many independent tasks over MPI
 * ranks (`run`; a sweep, calibration or evaluation is the same loop over other tasks): what the
 * ranks do between "every rank holds the same task list" and "rank 0 holds every result".
 *
 *   take      ranks take task indices from the shared counter (work_queue.h) in list order
 *             (callers put the largest predicted cost first) and run each with the caller's
 *             execute callback; rank 0 computes too
 *   progress  the kernels' progress reports from inside a task reach every rank's in-flight slot;
 *             rank 0 prints the progress line every interval seconds, also while it waits for
 *             the other ranks at the end
 *   stop      SIGUSR1/SIGTERM (Slurm's --signal, preemption) on any rank stops the taking on
 *             every rank; a task in flight on that rank is dropped at its next progress boundary
 *             (the callback answers "stop"), never half-written
 *   gather    the fixed-size result of every completed task goes to rank 0
 */
#ifndef RF_DRIVER_H
#define RF_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/progress.h"

/* Runs task `task` on this rank and writes its result (result_size bytes). Returns RF_OK, or
 * RF_CANCELLED when the progress callback stopped it (nothing of it may be left behind). */
typedef int (*rf_task_fn)(void *ctx, int task, void *result, rf_progress_fn progress,
                          void *progress_ctx);

typedef struct {
    int ntasks;
    const double *cost;        /* [ntasks] predicted FLOP: the share of work done, the ETA */
    const int64_t *weights;    /* [ntasks] weights of each task, for the rate */
    const unsigned char *skip; /* [ntasks] nonzero: done before this run, not run again */
    size_t result_size;
    rf_task_fn execute;
    void *ctx;
    double progress_interval;  /* seconds between progress lines */
} rf_work;

/* Completed tasks with the rank that ran each and its result. */
typedef struct {
    int n;
    int *task, *rank;          /* [n] */
    size_t result_size;
    char *results;             /* [n * result_size] */
} rf_results;

static inline void *rf_result_at(const rf_results *r, int k) {
    return r->results + (size_t)k * r->result_size;
}
/* Room for capacity results of result_size bytes each. */
void rf_results_init(rf_results *r, int capacity, size_t result_size);
/* Appends task's result (copied; room must remain). */
void rf_results_add(rf_results *r, int task, int rank, const void *result);
void rf_results_free(rf_results *r);

/* From now on SIGUSR1 and SIGTERM stop the work instead of the process. */
void rf_driver_catch_signals(void);
/* The stop signal that came (0: none). */
int rf_driver_stop_signal(void);

/* Collective. Runs every task not skipped once over the ranks; rank 0's *done receives every
 * rank's completed tasks (in no particular order), the other ranks' nothing. When a stop signal
 * came, some tasks are neither skipped nor done. */
void rf_work_run(const rf_work *w, rf_results *done);

/* Collective: rank 0 receives every rank's r (n entries each), the others an empty set. */
void rf_results_gather(const rf_results *mine, rf_results *all);

#endif
