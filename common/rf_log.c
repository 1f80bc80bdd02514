/* rf_log.c -- see rf_log.h. */
#include "common/rf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "common/rf_error.h"

static FILE *log_file = NULL;
static int log_rank = 0, log_nranks = 1;
static double log_start = -1;

double rf_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void rf_log_set_rank(int rank, int nranks) {
    log_rank = rank;
    log_nranks = nranks;
}

int rf_log_open(const char *path) {
    rf_log_close();
    log_file = fopen(path, "a");
    if (!log_file) return rf_fail("cannot write log file %s", path);
    setvbuf(log_file, NULL, _IOLBF, 0);
    if (log_start < 0) log_start = rf_now();
    return RF_OK;
}

void rf_log_close(void) {
    if (log_file) fclose(log_file);
    log_file = NULL;
}

static void log_line(const char *kind, const char *fmt, va_list ap) {
    if (!log_file) return;
    time_t t = time(NULL);
    struct tm tm;
    char stamp[32];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(log_file, "%s rank %d %s", stamp, log_rank, kind);
    vfprintf(log_file, fmt, ap);
    fputc('\n', log_file);
}

void rf_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line("", fmt, ap);
    va_end(ap);
}

void rf_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_line("warning: ", fmt, ap);
    va_end(ap);
    if (log_nranks > 1) fprintf(stderr, "riverforge: rank %d: warning: ", log_rank);
    else fprintf(stderr, "riverforge: warning: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
