/* tmpdir_fixture.h -- cmocka setup/teardown giving each io test a fresh temporary folder
 * (*state holds its path) and removing it with everything in it afterwards. */
/* Needs _GNU_SOURCE (mkdtemp, nftw) defined before the first include of the test file. */
#ifndef RF_TMPDIR_FIXTURE_H
#define RF_TMPDIR_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int make_dir(void **state) {
    char *dir = strdup("/tmp/rf_test_io_XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static inline int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(p);
}

static inline int remove_dir(void **state) {
    nftw(*state, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

/* dir/name into buf [4096]. */
static inline const char *in_dir(char *buf, void **state, const char *name) {
    snprintf(buf, 4096, "%s/%s", (const char *)*state, name);
    return buf;
}

#endif
