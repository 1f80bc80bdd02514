/* fuzz_util.h -- what the libFuzzer harnesses share: a scratch folder of this process, writing an
 * input there as the file a reader is given, and the checks every harness makes.
 *
 * The harnesses call riverforge's readers as the commands do, on files: the bytes a reader is
 * handed are those of a file, so the input is written to one (the scratch folder lives in
 * $TMPDIR, /dev/shm when it exists, so a write costs microseconds) and the real entry point
 * opens it. A failed check prints what failed and aborts: libFuzzer keeps the input as a crash,
 * the replay driver (replay_main.c) fails its test.
 */
#ifndef RF_FUZZ_UTIL_H
#define RF_FUZZ_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char fuzz_scratch[256];

/* Removes path, and when it is a folder what it holds first (harnesses make at most one level). */
static void fuzz_remove(const char *path) {
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[1024];
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            fuzz_remove(p);
        }
    }
    if (d) closedir(d);
    remove(path);
}

static void fuzz_cleanup(void) { fuzz_remove(fuzz_scratch); }

/* This process's scratch folder, made on first use and removed at exit (libFuzzer's -fork and
 * -jobs run several processes side by side: each has its own). */
static inline const char *fuzz_dir(void) {
    if (!fuzz_scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/rf-fuzz-XXXXXX", tmp);
        FUZZ_CHECK(mkdtemp(fuzz_scratch), "cannot make a scratch folder under %s", tmp);
        atexit(fuzz_cleanup);
    }
    return fuzz_scratch;
}

/* Writes data[0..n) to fuzz_dir()/name (replacing it) and returns its path (static buffer). */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot write %s", path);
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, data + done, n - done);
        FUZZ_CHECK(w > 0, "cannot write %s", path);
        done += (size_t)w;
    }
    close(fd);
    return path;
}

/* A refusal is one line that names the file (or tensor) it is about (the CLI prints it and exits
 * 2); a name's control bytes appear as '?' there (rf_fail keeps a message one line). */
static inline void fuzz_check_refusal(const char *path) {
    const char *e = rf_last_error();
    FUZZ_CHECK(e && e[0], "a refusal of %s without a message", path);
    FUZZ_CHECK(!strchr(e, '\n'), "the refusal is not one line: %s", e);
    char shown[1024];
    snprintf(shown, sizeof shown, "%s", path);
    for (char *c = shown; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    FUZZ_CHECK(strstr(e, shown), "the refusal does not name %s: %s", shown, e);
}

#endif
