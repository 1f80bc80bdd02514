/* progress.h -- rank 0's progress line: tasks done/total, share of the predicted work, elapsed,
 * ETA (from the predicted work, not the task count: the large matrices go first), weights/s.
 * On a terminal the line is redrawn in place every second; otherwise (a Slurm job's output
 * file) a plain line is printed every `interval` seconds, with no control codes. */
#ifndef RF_PROGRESS_H
#define RF_PROGRESS_H

#include <stdint.h>

typedef struct {
    double start, last_print, interval;
    int tty, drawn;
    int64_t total_tasks, total_weights;
    double total_mflop;
} rf_progress;

void rf_progress_start(rf_progress *p, int64_t total_tasks, double total_mflop,
                       int64_t total_weights, double interval);
/* Prints when due (or always with force). */
void rf_progress_update(rf_progress *p, int64_t tasks_done, double mflop_done,
                        int64_t weights_done, int force);
/* Ends an in-place line with a newline. */
void rf_progress_finish(rf_progress *p);

/* "1:02:03" */
void rf_format_duration(double seconds, char *buf, int len);

#endif
