/* work_queue.h -- the shared task counter of a run (DESIGN.md section 2, step 3).
 *
 * An MPI window at rank 0 holds four int64 counters: the next task index to hand out, tasks done,
 * predicted work done (MFLOP) and weights done. A rank takes its next task with one
 * MPI_Fetch_and_op (no master loop: rank 0 computes too), and reports a finished task with
 * MPI_Accumulate. The window is allocated with MPI_Win_allocate so that ranks on one node use
 * shared memory and need no progress from rank 0. */
#ifndef RF_WORK_QUEUE_H
#define RF_WORK_QUEUE_H

#include <mpi.h>
#include <stdint.h>

typedef struct {
    MPI_Win win;
    int64_t *base; /* rank 0's counters (NULL elsewhere) */
} rf_work_queue;

typedef struct {
    int64_t next, tasks_done, mflop_done, weights_done;
} rf_work_counts;

void rf_work_queue_open(rf_work_queue *q);   /* collective */
void rf_work_queue_close(rf_work_queue *q);  /* collective */
int64_t rf_work_queue_take(rf_work_queue *q);
/* Makes every later take, on any rank, return an index past the end: the run stops taking
 * tasks everywhere (after SIGUSR1/SIGTERM on any rank). */
void rf_work_queue_stop(rf_work_queue *q);
void rf_work_queue_report(rf_work_queue *q, double flop, int64_t weights);
rf_work_counts rf_work_queue_read(rf_work_queue *q);

#endif
