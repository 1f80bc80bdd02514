/* test_atomic_file.c -- "a file at PATH is always complete" (io/atomic_file.h).
 *
 * rf_atomic_write: the parts concatenated, no PATH.tmp left; a missing or unwritable folder and
 * a full disk fail naming the path, leave no PATH.tmp, and an existing PATH keeps its old bytes.
 * rf_atomic_commit: moves PATH.tmp into place (over an old PATH too); a missing PATH.tmp or a
 * folder in PATH's place fail naming the path. rf_make_dirs: nested folders, an existing folder,
 * and a plain file in the way (at PATH or above it). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "full_disk_fixture.h"
#include "io_asserts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

/* The whole file as a string ("" when it is empty), malloc'd. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_contents(const char *path, const char *want) {
    char *got = slurp(path);
    assert_string_equal(got, want);
    free(got);
}

/* rf_atomic_write of "one" "two" "" "three" to path. */
static int write_parts(const char *path) {
    const void *parts[4] = {"one", "two", "", "three"};
    const size_t sizes[4] = {3, 3, 0, 5};
    return rf_atomic_write(path, 4, parts, sizes);
}

static void test_write(void **state) {
    char path[4096], tmp[4200];
    in_dir(path, state, "f.bin");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    put(tmp, "a leftover of a crashed run, longer than the new file");
    assert_int_equal(write_parts(path), RF_OK);
    assert_contents(path, "onetwothree");
    assert_false(exists(tmp));
    /* over an existing file */
    const void *parts[1] = {"new"};
    const size_t sizes[1] = {3};
    assert_int_equal(rf_atomic_write(path, 1, parts, sizes), RF_OK);
    assert_contents(path, "new");
    assert_false(exists(tmp));
}

static void test_write_missing_folder(void **state) {
    char path[4096];
    in_dir(path, state, "no/such/f.bin");
    assert_int_equal(write_parts(path), RF_ERR);
    assert_error_mentions(path, "No such file");
    assert_false(exists(path));
}

/* Root ignores permissions: the write runs in a child, which gives up root first when it has it.
 * The child reports with its exit code (0: failed as it should, naming the path). */
static void test_write_unwritable_folder(void **state) {
    char dir[4096], path[4200], tmp[4300];
    in_dir(dir, state, "read-only");
    assert_int_equal(chmod(*state, 0755), 0);
    assert_int_equal(mkdir(dir, 0555), 0);
    snprintf(path, sizeof path, "%s/f.bin", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
        int ok = write_parts(path) == RF_ERR && strstr(rf_last_error(), path) &&
                 strstr(rf_last_error(), "Permission denied");
        fprintf(stderr, "    error: %s\n", rf_last_error());
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_false(exists(path));
    assert_false(exists(tmp));
}

/* A full disk, as RLIMIT_FSIZE makes one (EFBIG; SIGXFSZ ignored): the old file survives. */
static void test_failed_write_keeps_old_file(void **state) {
    char path[4096], tmp[4200];
    in_dir(path, state, "f.bin");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    put(path, "old");
    size_t big = 64 << 10;
    char *data = malloc(big);
    memset(data, 'x', big);
    const void *parts[1] = {data};
    const full_disk disk = full_disk_begin(16384);
    int rc = rf_atomic_write(path, 1, parts, &big);
    full_disk_end(&disk);
    free(data);
    assert_int_equal(rc, RF_ERR);
    assert_error_mentions(path, "cannot write");
    assert_contents(path, "old");
    assert_false(exists(tmp));
}

static void test_commit(void **state) {
    char path[4096], tmp[4200];
    in_dir(path, state, "f.bin");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    put(tmp, "first");
    assert_int_equal(rf_atomic_commit(tmp, path), RF_OK);
    assert_contents(path, "first");
    assert_false(exists(tmp));
    put(tmp, "second");
    assert_int_equal(rf_atomic_commit(tmp, path), RF_OK);
    assert_contents(path, "second");
    assert_false(exists(tmp));
}

static void test_commit_failures(void **state) {
    char path[4096], tmp[4200];
    in_dir(path, state, "f.bin");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(rf_atomic_commit(tmp, path), RF_ERR); /* nothing to commit */
    assert_error_mentions(tmp, "No such file");
    assert_false(exists(path));
    /* a folder where the file should go: the rename fails and PATH.tmp is removed */
    assert_int_equal(mkdir(path, 0755), 0);
    put(tmp, "bytes");
    assert_int_equal(rf_atomic_commit(tmp, path), RF_ERR);
    assert_error_mentions(path, "cannot rename");
    assert_false(exists(tmp));
}

static void assert_is_folder(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_make_dirs(void **state) {
    char path[4096];
    in_dir(path, state, "a/b/c");
    assert_int_equal(rf_make_dirs(path), RF_OK);
    assert_is_folder(path);
    assert_int_equal(rf_make_dirs(path), RF_OK); /* an existing folder is fine */
    in_dir(path, state, "a");
    assert_int_equal(rf_make_dirs(path), RF_OK);
    assert_is_folder(path);
}

static void test_make_dirs_file_in_the_way(void **state) {
    char file[4096], below[4200];
    in_dir(file, state, "plain");
    put(file, "not a folder");
    assert_int_equal(rf_make_dirs(file), RF_ERR);
    assert_error_mentions(file, "Not a directory");
    snprintf(below, sizeof below, "%s/sub/dir", file);
    assert_int_equal(rf_make_dirs(below), RF_ERR);
    assert_error_mentions(file, "Not a directory");
    assert_contents(file, "not a folder");
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_write),
        T(test_write_missing_folder),
        T(test_write_unwritable_folder),
        T(test_failed_write_keeps_old_file),
        T(test_commit),
        T(test_commit_failures),
        T(test_make_dirs),
        T(test_make_dirs_file_in_the_way),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
