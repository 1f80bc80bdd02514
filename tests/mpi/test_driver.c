/* test_driver.c -- the distributed work loop (mpi/driver.h) over real MPI ranks (ctest runs it
 * under mpirun -np 3): every task not skipped runs exactly once, on some rank, and its result
 * reaches rank 0; ranks that compute nothing still gather; progress from inside a task reaches
 * the callback; a stop signal on one rank drops its task in flight and stops the taking on every
 * rank, with nothing run twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "mpi/driver.h"
#include "mpi/rf_mpi.h"

enum { NTASKS = 40 };

typedef struct {
    int64_t task, rank;
    double last_fraction;
} result;

typedef struct {
    int rank;
    int raise_in_first; /* this rank raises SIGUSR1 inside the first task it takes */
    int ran;            /* tasks this rank started */
} context;

static int execute(void *ctx, int task, void *out, rf_progress_fn progress, void *progress_ctx) {
    context *c = ctx;
    if (c->raise_in_first && c->ran == 0) raise(SIGUSR1);
    c->ran++;
    result *r = out;
    *r = (result){.task = task, .rank = c->rank};
    const struct timespec a_while = {0, 5000000}; /* 4 x 5 ms: the ranks overlap */
    for (int k = 1; k <= 4; k++) {
        nanosleep(&a_while, NULL);
        const rf_progress_point at = {.fraction = k / 4.0, .epoch = -1};
        if (progress(progress_ctx, &at)) return RF_CANCELLED;
        r->last_fraction = at.fraction;
    }
    return RF_OK;
}

static rf_work make_work(double *cost, int64_t *weights, unsigned char *skip, context *c) {
    for (int i = 0; i < NTASKS; i++) {
        cost[i] = 1e9 * (NTASKS - i);
        weights[i] = 100;
        skip[i] = i % 7 == 3;
    }
    return (rf_work){.ntasks = NTASKS, .cost = cost, .weights = weights, .skip = skip,
                     .result_size = sizeof(result), .execute = execute, .ctx = c,
                     .progress_interval = 0.01};
}

static void test_every_task_once(void **state) {
    (void)state;
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    double cost[NTASKS];
    int64_t weights[NTASKS];
    unsigned char skip[NTASKS];
    context c = {.rank = rank, .raise_in_first = 0};
    const rf_work w = make_work(cost, weights, skip, &c);
    rf_results done;
    rf_work_run(&w, &done);
    if (rank != 0) {
        assert_int_equal(done.n, 0);
    } else {
        int seen[NTASKS] = {0}, skipped = 0;
        for (int i = 0; i < NTASKS; i++) skipped += skip[i];
        assert_int_equal(done.n, NTASKS - skipped);
        for (int k = 0; k < done.n; k++) {
            const result *r = rf_result_at(&done, k);
            assert_int_equal(r->task, done.task[k]);
            assert_int_equal(r->rank, done.rank[k]);
            assert_true(done.rank[k] >= 0 && done.rank[k] < nranks);
            assert_true(r->last_fraction == 1.0);
            assert_false(skip[done.task[k]]);
            seen[done.task[k]]++;
        }
        for (int i = 0; i < NTASKS; i++) assert_int_equal(seen[i], skip[i] ? 0 : 1);
    }
    rf_results_free(&done);
}

/* Rank 1 takes a stop signal inside its first task: that task is dropped and every rank stops
 * taking; the others finish the task they are in. */
static void test_stop_signal(void **state) {
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double cost[NTASKS];
    int64_t weights[NTASKS];
    unsigned char skip[NTASKS];
    context c = {.rank = rank, .raise_in_first = rank == 1};
    const rf_work w = make_work(cost, weights, skip, &c);
    rf_driver_catch_signals();
    rf_results done;
    rf_work_run(&w, &done);
    assert_int_equal(rf_driver_stop_signal(), rank == 1 ? SIGUSR1 : 0);
    if (rank == 1) assert_int_equal(c.ran, 1);
    if (rank == 0) {
        int seen[NTASKS] = {0};
        for (int k = 0; k < done.n; k++) {
            assert_int_not_equal(done.rank[k], 1);
            seen[done.task[k]]++;
        }
        for (int i = 0; i < NTASKS; i++) assert_true(seen[i] <= 1);
        assert_true(done.n < NTASKS / 2); /* the taking stopped long before the end */
    }
    rf_results_free(&done);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once),
        cmocka_unit_test(test_stop_signal),
    };
    const int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed;
}
