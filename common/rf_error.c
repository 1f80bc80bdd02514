/* rf_error.c -- user-error messages (thread-local) and the fatal path for internal errors. */
#include "common/rf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[2048];
static _Thread_local const char *last_field; /* a string literal of the kernel's */
static void (*fatal_handler)(int) = NULL;

/* A message is one line, whatever the names it quotes hold: a tensor or file name from a damaged
 * or hostile file may carry a newline or a terminal escape. Control bytes become '?'. */
static void one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static void record(const char *field, const char *fmt, va_list ap) {
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    one_line(last_error);
    last_field = field;
}

int rf_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(NULL, fmt, ap);
    va_end(ap);
    return RF_ERR;
}

int rf_fail_field(const char *field, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(field, fmt, ap);
    va_end(ap);
    return RF_ERR;
}

const char *rf_error_field(void) { return last_field; }

int rf_fail_prefix(const char *fmt, ...) {
    char prefix[1024], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix) < sizeof last_error - 1 ? strlen(prefix) : sizeof last_error - 1;
    memcpy(last_error, prefix, n); /* prefix, then as much of the old message as fits */
    size_t m = strlen(old) < sizeof last_error - 1 - n ? strlen(old) : sizeof last_error - 1 - n;
    memcpy(last_error + n, old, m);
    last_error[n + m] = '\0';
    one_line(last_error);
    return RF_ERR;
}

const char *rf_last_error(void) { return last_error[0] ? last_error : "unknown error"; }

void rf_set_fatal_handler(void (*handler)(int)) { fatal_handler = handler; }

static _Noreturn void stop(int code) {
    fflush(stdout);
    fflush(stderr);
    if (fatal_handler) fatal_handler(code);
    exit(code);
}

void rf_fatal_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "riverforge: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    stop(RF_EXIT_INTERNAL);
}

void rf_die_user(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "riverforge: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    stop(RF_EXIT_USAGE);
}

void *rf_malloc_at(size_t nbytes, const char *file, int line) {
    void *p = malloc(nbytes ? nbytes : 1);
    if (!p) rf_fatal_at(file, line, "out of memory allocating %zu bytes", nbytes);
    return p;
}

void *rf_calloc_at(size_t count, size_t size, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) rf_fatal_at(file, line, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

char *rf_strdup_at(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *p = rf_malloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}
