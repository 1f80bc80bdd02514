/* work_queue.h -- the shared task counter of a run and the counts behind its progress line.
 *
 * An MPI window at rank 0 holds int64 counters: the next task index to hand out, tasks done,
 * predicted work done (MFLOP), weights done, ranks that have left the work loop, and one slot
 * per rank with the predicted work done so far of the task it is computing (MFLOP). A rank takes
 * its next task with one MPI_Fetch_and_op (no master loop: rank 0 computes too) and reports with
 * MPI_Accumulate. The window is allocated with MPI_Win_allocate so that ranks on one node use
 * shared memory and need no progress from rank 0. */
#ifndef RF_WORK_QUEUE_H
#define RF_WORK_QUEUE_H

#include <mpi.h>
#include <stdint.h>

typedef struct {
    MPI_Win win;
    int rank, nranks;
} rf_work_queue;

typedef struct {
    int64_t tasks_done, mflop_done, weights_done;
    int64_t ranks_left;     /* ranks that will take no more tasks */
    int64_t mflop_inflight; /* the done part of the tasks in flight, all ranks */
} rf_work_counts;

void rf_work_queue_open(rf_work_queue *q);   /* collective */
void rf_work_queue_close(rf_work_queue *q);  /* collective */
int64_t rf_work_queue_take(rf_work_queue *q);
/* Makes every later take, on any rank, return an index past the end: the run stops taking
 * tasks everywhere (after SIGUSR1/SIGTERM on any rank). */
void rf_work_queue_stop(rf_work_queue *q);
/* A finished task: its predicted work and weights; this rank's in-flight slot returns to 0. */
void rf_work_queue_report(rf_work_queue *q, double flop, int64_t weights);
/* This rank's task in flight has done flop of its predicted work. */
void rf_work_queue_inflight(rf_work_queue *q, double flop);
/* This rank takes no more tasks. */
void rf_work_queue_leave(rf_work_queue *q);
rf_work_counts rf_work_queue_read(rf_work_queue *q);

#endif
