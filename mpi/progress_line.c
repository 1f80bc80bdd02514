/* progress_line.c -- see progress_line.h. */
#include "mpi/progress_line.h"

#include <stdio.h>

#include "common/rf_log.h"

void rf_format_duration(double s, char *buf, int len) {
    long t = s < 0 ? 0 : (long)(s + 0.5);
    snprintf(buf, (size_t)len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

void rf_progress_line_start(rf_progress_line *p, int64_t total_tasks, double total_mflop,
                            int64_t total_weights, double interval) {
    *p = (rf_progress_line){.start = rf_now(), .last_print = -1e9, .interval = interval,
                            .total_tasks = total_tasks, .total_weights = total_weights,
                            .total_mflop = total_mflop};
}

int rf_progress_line_due(const rf_progress_line *p) { return rf_now() - p->last_print >= p->interval; }

void rf_progress_line_update(rf_progress_line *p, int64_t tasks_done, double mflop_done,
                             int64_t weights_done, int force) {
    double now = rf_now();
    if (!force && now - p->last_print < p->interval) return;
    p->last_print = now;
    double elapsed = now - p->start;
    double frac = p->total_mflop > 0 ? mflop_done / p->total_mflop : 1.0;
    char el[32], eta[32] = "?";
    rf_format_duration(elapsed, el, sizeof el);
    if (frac > 0) rf_format_duration(elapsed * (1 - frac) / frac, eta, sizeof eta);
    double rate = elapsed > 0 ? (double)weights_done / elapsed : 0;
    int width = snprintf(NULL, 0, "%lld", (long long)p->total_tasks);
    printf("[%*lld/%lld tasks] %5.1f%% of work | elapsed %s | ETA %s | %.2f Mweights/s\n", width,
           (long long)tasks_done, (long long)p->total_tasks, 100 * frac, el, eta, rate * 1e-6);
    fflush(stdout);
    rf_log("progress: %lld/%lld tasks, %.1f%% of work, elapsed %s", (long long)tasks_done,
           (long long)p->total_tasks, 100 * frac, el);
}
