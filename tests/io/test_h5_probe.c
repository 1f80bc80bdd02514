/* test_h5_probe.c -- reading a user's HDF5 file in a child process (io/h5_probe.h,
 * io/child_process.h).
 *
 * The containment: a child that exits 0 passes; one that prints an error line and exits 2 gives
 * that line; one killed by a signal (SIGSEGV), one past its time limit (killed) and one that
 * cannot be started each give one line naming the file. The checks: a riverforge file and a
 * contiguous dataset pass; a missing or non-HDF5 file, a chunked dataset with a chunk never stored
 * (it would read back as fill values), and a damaged chunk (with "data": Fletcher32) fail naming
 * the file; a missing object is left to the caller. rf_h5_probe runs /proc/self/exe, so this test
 * binary doubles as the child: `test_h5_probe inspect --check FILE OBJECT MODE` does what
 * `riverforge inspect --check` does. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <stdio.h>
#include <unistd.h>

#include "io/child_process.h"
#include "io/h5_probe.h"
#include "io/h5_util.h"
#include "io_asserts.h"
#include "corrupt_fixture.h"

static void test_child_exit_codes(void **state) {
    (void)state;
    char *ok[] = {"/bin/true", NULL};
    assert_int_equal(rf_child_run(ok, "f.h5", 10), RF_OK);
    char *refuses[] = {"/bin/sh", "-c",
                       "echo noise >&2; echo 'riverforge: error: f.h5: /x is missing' >&2; exit 2",
                       NULL};
    assert_int_equal(rf_child_run(refuses, "f.h5", 10), RF_ERR);
    assert_string_equal(rf_last_error(), "f.h5: /x is missing");
    char *silent[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_equal(rf_child_run(silent, "f.h5", 10), RF_ERR);
    assert_error_mentions("f.h5", "exited with 3");
}

static void test_child_crash(void **state) {
    (void)state;
    char *crash[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    assert_int_equal(rf_child_run(crash, "f.h5", 10), RF_ERR);
    assert_error_mentions("f.h5", "crashed HDF5 (signal 11");
}

/* A child that never ends (a loop in HDF5) is killed at the limit, stderr open or closed. */
static void test_child_time_limit(void **state) {
    (void)state;
    char *loop[] = {"/bin/sleep", "30", NULL};
    assert_int_equal(rf_child_run(loop, "f.h5", 0.3), RF_ERR);
    assert_error_mentions("f.h5", "did not finish within");
    char *closed[] = {"/bin/sh", "-c", "exec 2>&-; sleep 30", NULL};
    assert_int_equal(rf_child_run(closed, "f.h5", 0.3), RF_ERR);
    assert_error_mentions("f.h5", "did not finish within");
}

static void test_child_cannot_start(void **state) {
    (void)state;
    char *none[] = {"/no/such/program", NULL};
    assert_int_equal(rf_child_run(none, "f.h5", 10), RF_ERR);
    assert_error_mentions("f.h5", "cannot start");
}

/* A riverforge file: /g/x chunked with Fletcher32 (3 chunks of 1 MiB), an attribute. */
static void write_chunked(const char *path) {
    const hsize_t n = 600000;
    float *x = malloc(n * sizeof *x);
    for (hsize_t i = 0; i < n; i++) x[i] = (float)i;
    hid_t f = rf_h5_create_mem(path);
    rf_h5_write_dataset(f, "/g/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &n, x);
    rf_h5_attr_str(f, "/g", "note", "text");
    assert_int_equal(rf_h5_finish(f, path, RF_OK), RF_OK);
    free(x);
}

static void test_probe_good_files(void **state) {
    char path[4096];
    write_chunked(in_dir(path, state, "f.h5"));
    if (rf_h5_probe(path, "/", 1) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(rf_h5_probe(path, "/g", 0), RF_OK);
    assert_int_equal(rf_h5_probe(path, "/nothing/here", 0), RF_OK); /* the caller's to report */

    /* contiguous, as h5py writes by default */
    hid_t file = H5Fcreate(in_dir(path, state, "c.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {64, 64};
    double v[64 * 64] = {0};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(file, "/m", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(file);
    if (rf_h5_probe(path, "/", 1) != RF_OK) fail_msg("%s", rf_last_error());
}

static void test_probe_bad_files(void **state) {
    char path[4096];
    assert_int_equal(rf_h5_probe(in_dir(path, state, "missing.h5"), "/", 1), RF_ERR);
    assert_error_mentions(path, "No such file");
    FILE *f = fopen(in_dir(path, state, "text.h5"), "w");
    fputs("not HDF5 at all\n", f);
    fclose(f);
    assert_int_equal(rf_h5_probe(path, "/", 1), RF_ERR);
    assert_error_mentions(path, "not a readable HDF5 file");
    /* A FIFO: refused at once, not waited on (the image check opens it before any child runs). */
    assert_int_equal(mkfifo(in_dir(path, state, "fifo.h5"), 0644), 0);
    assert_int_equal(rf_h5_probe(path, "/", 1), RF_ERR);
    assert_error_mentions(path, "not a regular file");
}

/* One flipped byte in a chunk: with "data" the child's read fails Fletcher32; "layout" does not
 * read the data (the parent's read finds it). */
static void test_probe_damaged_chunk(void **state) {
    char path[4096];
    write_chunked(in_dir(path, state, "f.h5"));
    damage_first_chunk(path, "/g/x");
    assert_int_equal(rf_h5_probe(path, "/", 1), RF_ERR);
    assert_error_mentions(path, "/g/x fails its Fletcher32 checksum");
    assert_int_equal(rf_h5_probe(path, "/", 0), RF_OK);
}

/* A chunk the index does not hold reads back as fill values: refused. */
static void test_probe_missing_chunk(void **state) {
    char path[4096];
    in_dir(path, state, "sparse.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[1] = {100}, chunk[1] = {10}, one[1] = {10}, start[1] = {0};
    hid_t space = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    hid_t d = H5Dcreate2(file, "/x", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    double v[10] = {1};
    hid_t mem = H5Screate_simple(1, one, NULL);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, one, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, v) >= 0); /* chunk 0 only */
    H5Sclose(mem);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    assert_int_equal(rf_h5_probe(path, "/", 0), RF_ERR);
    assert_error_mentions(path, "/x has a chunk that is not stored");
}

/* The child's side, as `riverforge inspect --check` runs it (mpi/cmd_inspect.c). */
static int child_main(int argc, char **argv) {
    if (argc != 6 || strcmp(argv[2], "--check")) return 1;
    if (rf_h5_check_file(argv[3], argv[4], !strcmp(argv[5], "data")) == RF_OK) return 0;
    fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
    return 2;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "inspect")) return child_main(argc, argv);
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_exit_codes), cmocka_unit_test(test_child_crash),
        cmocka_unit_test(test_child_time_limit), cmocka_unit_test(test_child_cannot_start),
        T(test_probe_good_files),                T(test_probe_bad_files),
        T(test_probe_damaged_chunk),             T(test_probe_missing_chunk),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
