/* rf_error.h -- the two kinds of failure, kept apart (as QuEST keeps user-input validation apart
 * from internal errors).
 *
 * User errors (bad input: a corrupt file, a wrong shape, a flag that does not divide a dimension):
 *   functions that read or validate user input return RF_ERR after rf_fail("...") has recorded one
 *   line that names the file, the tensor or the flag. Callers pass RF_ERR up; the CLI prints
 *   "riverforge: error: <line>" once and exits with RF_EXIT_USAGE.
 *
 * Internal errors (an allocation, an HDF5/MPI/BLAS call that must not fail): the rf_check* macros
 *   print "riverforge: internal error at file:line: ..." and call the fatal handler, which mpi/
 *   sets to MPI_Abort so that the whole job stops, not one rank.
 */
#ifndef RF_ERROR_H
#define RF_ERROR_H

#include <stddef.h>

#define RF_OK 0
#define RF_ERR (-1)

/* Process exit codes (documented in docs/usage.md). */
enum {
    RF_EXIT_OK = 0,
    RF_EXIT_INTERNAL = 1,    /* a bug or a failing system call */
    RF_EXIT_USAGE = 2,       /* bad input: flag, file, tensor */
    RF_EXIT_INTERRUPTED = 3, /* stopped by SIGUSR1/SIGTERM; rerun with the same --out to resume */
};

/* Records the message of a user error (printf-style, one line, no trailing newline: control bytes
 * that quoted names bring in become '?') and returns
 * RF_ERR, so that `return rf_fail("%s: truncated", path);` reads naturally. Thread-local. */
int rf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefixes the recorded message with more context ("model.safetensors: " + old message). */
int rf_fail_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *rf_last_error(void);

/* A user error about one setting of a kernel's configuration. The message names the setting as the
 * kernel calls it ("in_group_size 7 does not divide in_features 512"); field is its qualified id
 * ("aqlm.in_group_size"), kept until the next rf_fail or rf_fail_field (rf_fail_prefix keeps it),
 * so that the layer that knows how users spell the setting can say it that way (mpi/cli.h turns
 * in_group_size into --in_group_size). Kernels never name CLI flags themselves. */
int rf_fail_field(const char *field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The qualified id of the setting the last error is about, or NULL. */
const char *rf_error_field(void);

/* Internal errors. The default handler exits with RF_EXIT_INTERNAL. */
void rf_set_fatal_handler(void (*handler)(int exit_code));
_Noreturn void rf_fatal_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A user error found where it cannot be passed up (inside a task on one rank): prints the line and
 * stops the job with RF_EXIT_USAGE through the fatal handler. */
_Noreturn void rf_die_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define rf_fatal(...) rf_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
#define rf_check(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) rf_fatal_at(__FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)

void *rf_malloc_at(size_t nbytes, const char *file, int line);
void *rf_calloc_at(size_t count, size_t size, const char *file, int line);
char *rf_strdup_at(const char *s, const char *file, int line);
#define rf_malloc(n) rf_malloc_at((n), __FILE__, __LINE__)
#define rf_calloc(n, s) rf_calloc_at((n), (s), __FILE__, __LINE__)
#define rf_strdup(s) rf_strdup_at((s), __FILE__, __LINE__)

#endif
