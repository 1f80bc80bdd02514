/* work_queue.c -- see work_queue.h. All ranks hold a passive-target lock_all epoch on the window
 * for its whole life; every operation is followed by a flush. */
#include "mpi/work_queue.h"

#include <stdint.h>
#include <string.h>

#include "mpi/rf_mpi.h"

enum { SLOT_NEXT, SLOT_TASKS, SLOT_MFLOP, SLOT_WEIGHTS, NUM_SLOTS };

void rf_work_queue_open(rf_work_queue *q) {
    int rank;
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_Aint size = rank == 0 ? NUM_SLOTS * (MPI_Aint)sizeof(int64_t) : 0;
    void *base = NULL;
    rf_check_mpi(MPI_Win_allocate(size, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &q->win));
    q->base = rank == 0 ? base : NULL;
    if (q->base) memset(q->base, 0, (size_t)size);
    rf_check_mpi(MPI_Barrier(MPI_COMM_WORLD)); /* counters zeroed before anyone takes */
    rf_check_mpi(MPI_Win_lock_all(0, q->win));
}

void rf_work_queue_close(rf_work_queue *q) {
    rf_check_mpi(MPI_Win_unlock_all(q->win));
    rf_check_mpi(MPI_Win_free(&q->win));
    q->base = NULL;
}

static int64_t fetch_add(rf_work_queue *q, int slot, int64_t value, MPI_Op op) {
    int64_t old = 0;
    rf_check_mpi(MPI_Fetch_and_op(&value, &old, MPI_INT64_T, 0, slot, op, q->win));
    rf_check_mpi(MPI_Win_flush(0, q->win));
    return old;
}

int64_t rf_work_queue_take(rf_work_queue *q) { return fetch_add(q, SLOT_NEXT, 1, MPI_SUM); }

void rf_work_queue_stop(rf_work_queue *q) { fetch_add(q, SLOT_NEXT, INT64_MAX / 2, MPI_REPLACE); }

void rf_work_queue_report(rf_work_queue *q, double flop, int64_t weights) {
    int64_t add[3] = {1, (int64_t)(flop * 1e-6), weights};
    rf_check_mpi(MPI_Accumulate(add, 3, MPI_INT64_T, 0, SLOT_TASKS, 3, MPI_INT64_T, MPI_SUM, q->win));
    rf_check_mpi(MPI_Win_flush(0, q->win));
}

rf_work_counts rf_work_queue_read(rf_work_queue *q) {
    int64_t v[NUM_SLOTS];
    rf_check_mpi(MPI_Get_accumulate(NULL, 0, MPI_INT64_T, v, NUM_SLOTS, MPI_INT64_T, 0, 0,
                                    NUM_SLOTS, MPI_INT64_T, MPI_NO_OP, q->win));
    rf_check_mpi(MPI_Win_flush(0, q->win));
    return (rf_work_counts){v[SLOT_NEXT], v[SLOT_TASKS], v[SLOT_MFLOP], v[SLOT_WEIGHTS]};
}
