/* progress_line.h -- rank 0's progress line: tasks done/total, share of the predicted work, elapsed,
 * ETA (from the predicted work, not the task count: the large matrices go first), weights/s.
 * A plain line every `interval` seconds, never terminal control codes: under mpirun a rank's
 * stdout may look like a terminal while it ends up in a Slurm job's output file. */
#ifndef RF_PROGRESS_LINE_H
#define RF_PROGRESS_LINE_H

#include <stdint.h>

typedef struct {
    double start, last_print, interval;
    int64_t total_tasks, total_weights;
    double total_mflop;
} rf_progress_line;

void rf_progress_line_start(rf_progress_line *p, int64_t total_tasks, double total_mflop,
                            int64_t total_weights, double interval);
/* Whether the next line is due (interval seconds since the last). */
int rf_progress_line_due(const rf_progress_line *p);
/* Prints when due (or always with force); mflop_done includes the done part of tasks in flight. */
void rf_progress_line_update(rf_progress_line *p, int64_t tasks_done, double mflop_done,
                             int64_t weights_done, int force);

/* "1:02:03" */
void rf_format_duration(double seconds, char *buf, int len);

#endif
