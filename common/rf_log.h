/* rf_log.h -- per-rank log files and warnings.
 *
 * rf_log() writes a timestamped line to this rank's log (OUT/logs/rank-N.log once opened; before
 * that, nowhere). rf_warn() writes to the log and to stderr, prefixed with the rank when the job
 * has more than one. rf_now() is a monotonic clock in seconds. */
#ifndef RF_LOG_H
#define RF_LOG_H

void rf_log_set_rank(int rank, int nranks);
/* Opens (appends to) the log file; RF_ERR with a message when it cannot be created. */
int rf_log_open(const char *path);
void rf_log_close(void);
void rf_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double rf_now(void);

#endif
