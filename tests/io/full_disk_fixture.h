/* full_disk_fixture.h -- a full disk for the io tests, as RLIMIT_FSIZE makes one: between
 * full_disk_begin and full_disk_end, writes past `bytes` of a file fail with EFBIG (SIGXFSZ is
 * ignored so that they fail rather than kill the test). Include after cmocka. */
#ifndef RF_FULL_DISK_FIXTURE_H
#define RF_FULL_DISK_FIXTURE_H

#include <signal.h>
#include <sys/resource.h>

typedef struct {
    struct rlimit old;
    void (*old_handler)(int);
} full_disk;

static inline full_disk full_disk_begin(rlim_t bytes) {
    full_disk d;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &d.old), 0);
    struct rlimit small = d.old;
    small.rlim_cur = bytes;
    d.old_handler = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    return d;
}

static inline void full_disk_end(const full_disk *d) {
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &d->old), 0);
    signal(SIGXFSZ, d->old_handler);
}

#endif
