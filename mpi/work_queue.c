/* work_queue.c -- see work_queue.h. All ranks hold a passive-target lock_all epoch on the window
 * for its whole life; every operation is followed by a flush. */
#include "mpi/work_queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/rf_mpi.h"

enum { SLOT_NEXT, SLOT_TASKS, SLOT_MFLOP, SLOT_WEIGHTS, SLOT_LEFT, SLOT_INFLIGHT };

void rf_work_queue_open(rf_work_queue *q) {
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &q->rank));
    rf_check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &q->nranks));
    MPI_Aint size = q->rank == 0 ? (SLOT_INFLIGHT + q->nranks) * (MPI_Aint)sizeof(int64_t) : 0;
    void *base = NULL;
    rf_check_mpi(MPI_Win_allocate(size, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &q->win));
    if (q->rank == 0) memset(base, 0, (size_t)size);
    rf_check_mpi(MPI_Barrier(MPI_COMM_WORLD)); /* counters zeroed before anyone takes */
    rf_check_mpi(MPI_Win_lock_all(0, q->win));
}

void rf_work_queue_close(rf_work_queue *q) {
    rf_check_mpi(MPI_Win_unlock_all(q->win));
    rf_check_mpi(MPI_Win_free(&q->win));
}

static int64_t fetch_op(rf_work_queue *q, int slot, int64_t value, MPI_Op op) {
    int64_t old = 0;
    rf_check_mpi(MPI_Fetch_and_op(&value, &old, MPI_INT64_T, 0, slot, op, q->win));
    rf_check_mpi(MPI_Win_flush(0, q->win));
    return old;
}

int64_t rf_work_queue_take(rf_work_queue *q) { return fetch_op(q, SLOT_NEXT, 1, MPI_SUM); }

void rf_work_queue_stop(rf_work_queue *q) { fetch_op(q, SLOT_NEXT, INT64_MAX / 2, MPI_REPLACE); }

void rf_work_queue_report(rf_work_queue *q, double flop, int64_t weights) {
    int64_t add[3] = {1, (int64_t)(flop * 1e-6), weights};
    rf_check_mpi(MPI_Accumulate(add, 3, MPI_INT64_T, 0, SLOT_TASKS, 3, MPI_INT64_T, MPI_SUM, q->win));
    rf_work_queue_inflight(q, 0); /* flushes both */
}

void rf_work_queue_inflight(rf_work_queue *q, double flop) {
    fetch_op(q, SLOT_INFLIGHT + q->rank, (int64_t)(flop * 1e-6), MPI_REPLACE);
}

void rf_work_queue_leave(rf_work_queue *q) { fetch_op(q, SLOT_LEFT, 1, MPI_SUM); }

rf_work_counts rf_work_queue_read(rf_work_queue *q) {
    const int n = SLOT_INFLIGHT + q->nranks;
    int64_t *v = rf_malloc((size_t)n * sizeof *v);
    rf_check_mpi(MPI_Get_accumulate(NULL, 0, MPI_INT64_T, v, n, MPI_INT64_T, 0, 0, n, MPI_INT64_T,
                                    MPI_NO_OP, q->win));
    rf_check_mpi(MPI_Win_flush(0, q->win));
    rf_work_counts c = {.tasks_done = v[SLOT_TASKS], .mflop_done = v[SLOT_MFLOP],
                        .weights_done = v[SLOT_WEIGHTS], .ranks_left = v[SLOT_LEFT]};
    for (int r = 0; r < q->nranks; r++) c.mflop_inflight += v[SLOT_INFLIGHT + r];
    free(v);
    return c;
}
