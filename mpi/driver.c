/* driver.c -- see driver.h. */
#include "mpi/driver.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "mpi/progress_line.h"
#include "mpi/rf_mpi.h"
#include "mpi/work_queue.h"

/* A rank publishes its task's progress at most this often (seconds): rank 0 reads it for the line. */
#define PUBLISH_INTERVAL 0.5
/* Rank 0, done with its own tasks, looks at the others' progress this often (seconds). */
#define WAIT_POLL 0.1

static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int sig) { stop_signal = sig; }

void rf_driver_catch_signals(void) {
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int rf_driver_stop_signal(void) { return (int)stop_signal; }

void rf_results_free(rf_results *r) {
    free(r->task);
    free(r->rank);
    free(r->results);
    memset(r, 0, sizeof *r);
}

void rf_results_init(rf_results *r, int capacity, size_t result_size) {
    r->n = 0;
    r->result_size = result_size;
    r->task = rf_calloc((size_t)capacity + 1, sizeof *r->task);
    r->rank = rf_calloc((size_t)capacity + 1, sizeof *r->rank);
    r->results = rf_calloc((size_t)capacity + 1, result_size);
}

void rf_results_add(rf_results *r, int task, int rank, const void *result) {
    if (result != rf_result_at(r, r->n)) memcpy(rf_result_at(r, r->n), result, r->result_size);
    r->task[r->n] = task;
    r->rank[r->n++] = rank;
}

typedef struct {
    const rf_work *w;
    rf_work_queue queue;
    rf_progress_line line;
    int rank;
    int task;             /* in flight on this rank */
    double last_publish;
} loop_state;

/* Rank 0: the progress line, when due (or forced). */
static void show_progress(loop_state *s, int force) {
    if (!force && !rf_progress_line_due(&s->line)) return;
    rf_work_counts c = rf_work_queue_read(&s->queue);
    rf_progress_line_update(&s->line, c.tasks_done, (double)(c.mflop_done + c.mflop_inflight),
                            c.weights_done, force);
}

/* The kernels' progress callback: publish this rank's share of its task, print the line on rank
 * 0, and answer "stop" once a stop signal came. */
static int on_task_progress(void *ctx, const rf_progress_point *at) {
    loop_state *s = ctx;
    const double now = rf_now();
    if (now - s->last_publish >= PUBLISH_INTERVAL) {
        rf_work_queue_inflight(&s->queue, at->fraction * s->w->cost[s->task]);
        s->last_publish = now;
    }
    if (s->rank == 0) show_progress(s, 0);
    return stop_signal != 0;
}

/* Takes tasks until the counter passes the end or a stop signal comes; appends to mine. */
static void take_tasks(loop_state *s, rf_results *mine) {
    const rf_work *w = s->w;
    for (;;) {
        if (stop_signal) {
            rf_work_queue_stop(&s->queue);
            rf_log("signal %d: taking no more tasks", (int)stop_signal);
            return;
        }
        const int64_t i = rf_work_queue_take(&s->queue);
        if (i >= w->ntasks) return;
        if (w->skip[i]) continue;
        s->task = (int)i;
        s->last_publish = rf_now();
        if (w->execute(w->ctx, (int)i, rf_result_at(mine, mine->n), on_task_progress, s) ==
            RF_CANCELLED) {
            rf_work_queue_inflight(&s->queue, 0);
            continue; /* the loop stops at its top */
        }
        rf_results_add(mine, (int)i, s->rank, rf_result_at(mine, mine->n));
        rf_work_queue_report(&s->queue, w->cost[i], w->weights[i]);
        if (s->rank == 0) show_progress(s, 0);
    }
}

/* Rank 0, out of tasks: keeps the line going until every rank is out, and passes on a stop
 * signal that comes meanwhile. */
static void wait_for_ranks(loop_state *s, int nranks) {
    const struct timespec poll = {0, (long)(WAIT_POLL * 1e9)};
    int stopped = 0;
    while (rf_work_queue_read(&s->queue).ranks_left < nranks) {
        if (stop_signal && !stopped) {
            rf_work_queue_stop(&s->queue);
            stopped = 1;
        }
        show_progress(s, 0);
        nanosleep(&poll, NULL);
    }
    show_progress(s, 1);
}

void rf_work_run(const rf_work *w, rf_results *done) {
    loop_state s = {.w = w};
    int nranks;
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &s.rank));
    rf_check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &nranks));
    int left = 0;
    double mflop = 0;
    int64_t weights = 0;
    for (int i = 0; i < w->ntasks; i++) {
        if (w->skip[i]) continue;
        left++;
        mflop += w->cost[i] * 1e-6;
        weights += w->weights[i];
    }
    if (s.rank == 0) rf_progress_line_start(&s.line, left, mflop, weights, w->progress_interval);
    rf_results mine;
    rf_results_init(&mine, w->ntasks, w->result_size);
    rf_work_queue_open(&s.queue);
    take_tasks(&s, &mine);
    rf_log("computed %d tasks", mine.n);
    rf_work_queue_leave(&s.queue);
    if (s.rank == 0) wait_for_ranks(&s, nranks);
    rf_work_queue_close(&s.queue);
    rf_results_gather(&mine, done);
    rf_results_free(&mine);
}

/* On the wire an entry is {int32 task, int32 rank, result, padding to 8 bytes}. */
void rf_results_gather(const rf_results *mine, rf_results *all) {
    const size_t size = mine->result_size, stride = 8 + (size + 7) / 8 * 8;
    char *packed = rf_calloc((size_t)mine->n + 1, stride);
    for (int k = 0; k < mine->n; k++) {
        const int32_t head[2] = {mine->task[k], mine->rank[k]};
        memcpy(packed + k * stride, head, sizeof head);
        memcpy(packed + k * stride + 8, rf_result_at(mine, k), size);
    }
    size_t total;
    char *flat = rf_mpi_gather_bytes(packed, (size_t)mine->n * stride, &total);
    free(packed);
    const int n = (int)(total / stride);
    rf_results_init(all, n, size);
    for (int k = 0; k < n; k++) {
        int32_t head[2];
        memcpy(head, flat + k * stride, sizeof head);
        rf_results_add(all, head[0], head[1], flat + k * stride + 8);
    }
    free(flat);
}
