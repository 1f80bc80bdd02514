/* test_vqc_file.c -- the files of `riverforge vqc simulate` (io/vqc_file.h): "FILE.h5:/dataset"
 * specs split at the last ":/" (file names with colons read; no ":/", an empty file or dataset
 * part refused), a missing file, a missing dataset, a string dataset and a rank above the limit
 * refused with messages that name the spec; float and integer datasets read back as float64
 * with their rank and dims; the output file read back with h5_util, datasets and attributes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "io_asserts.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rf_error.h"
#include "io/h5_util.h"
#include "io/vqc_file.h"

static const double X[6] = {1.5, -2.0, 0.25, 3.0, -0.125, 8.0};

/* DIR/name holding /x: X as float32 [2, 3], and /n: int32 [4] = 1, -2, 3, -4. */
static void write_input(void **state, char *path, const char *name) {
    in_dir(path, state, name);
    hid_t f = rf_h5_create_mem(path);
    const hsize_t xdims[2] = {2, 3}, ndims = 4;
    const float xf[6] = {1.5f, -2.0f, 0.25f, 3.0f, -0.125f, 8.0f};
    const int32_t ints[4] = {1, -2, 3, -4};
    rf_h5_write_dataset(f, "/x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, xdims, xf);
    rf_h5_write_dataset(f, "/n", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &ndims, ints);
    assert_int_equal(rf_h5_finish(f, path, RF_OK), RF_OK);
}

static void assert_reads_x(const char *spec) {
    rf_vqc_array a;
    if (rf_vqc_read_spec(spec, &a) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(a.rank, 2);
    assert_int_equal(a.dims[0], 2);
    assert_int_equal(a.dims[1], 3);
    assert_int_equal(a.count, 6);
    assert_memory_equal(a.data, X, sizeof X);
    rf_vqc_array_free(&a);
    assert_null(a.data);
}

/* The last error is exactly want. */
static void assert_error_is(const char *want) {
    print_message("    error: %s\n", rf_last_error());
    assert_string_equal(rf_last_error(), want);
}

static void test_spec_parsing(void **state) {
    char path[4096], spec[4200], dir[4096];
    write_input(state, path, "a:b.h5"); /* a colon in the file name */
    snprintf(spec, sizeof spec, "%s:/x", path);
    assert_reads_x(spec);
    in_dir(dir, state, "run:"); /* ":/" inside the path: the split is at the last one */
    assert_int_equal(mkdir(dir, 0755), 0);
    write_input(state, path, "run:/in.h5");
    snprintf(spec, sizeof spec, "%s:/x", path);
    assert_reads_x(spec);

    rf_vqc_array a;
    const char *bad[4] = {"in.h5", "in.h5:x", "in.h5:/", ":/x"};
    for (int i = 0; i < 4; i++) {
        char want[128];
        snprintf(want, sizeof want, "'%s': expected FILE.h5:/dataset", bad[i]);
        assert_int_equal(rf_vqc_read_spec(bad[i], &a), RF_ERR);
        assert_error_is(want);
        assert_null(a.data);
    }
}

static void test_missing_file(void **state) {
    char path[4096], spec[4200], want[8500];
    in_dir(path, state, "none.h5");
    snprintf(spec, sizeof spec, "%s:/x", path);
    rf_vqc_array a;
    assert_int_equal(rf_vqc_read_spec(spec, &a), RF_ERR);
    snprintf(want, sizeof want, "%s: %s: No such file or directory", spec, path);
    assert_error_is(want);
    assert_null(a.data);
}

static void test_missing_dataset(void **state) {
    char path[4096], spec[4200], want[4300];
    write_input(state, path, "in.h5");
    snprintf(spec, sizeof spec, "%s:/nope", path);
    rf_vqc_array a;
    assert_int_equal(rf_vqc_read_spec(spec, &a), RF_ERR);
    snprintf(want, sizeof want, "%s: /nope is missing", spec);
    assert_error_is(want);
    assert_null(a.data);
}

/* A string dataset, and a float dataset of rank 9, written with plain HDF5 calls. */
static void test_not_real_or_rank_too_high(void **state) {
    char path[4096], spec[4200], want[4300];
    in_dir(path, state, "odd.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    hsize_t two = 2;
    hid_t space = H5Screate_simple(1, &two, NULL);
    hid_t d = H5Dcreate2(f, "/s", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abcdefgh") >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(t);
    const hsize_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const double one = 1;
    space = H5Screate_simple(9, ones, NULL);
    d = H5Dcreate2(f, "/r9", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &one) >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);

    rf_vqc_array a;
    snprintf(spec, sizeof spec, "%s:/s", path);
    assert_int_equal(rf_vqc_read_spec(spec, &a), RF_ERR);
    snprintf(want, sizeof want, "%s: /s is not a real (float or integer) dataset", spec);
    assert_error_is(want);
    assert_null(a.data);
    snprintf(spec, sizeof spec, "%s:/r9", path);
    assert_int_equal(rf_vqc_read_spec(spec, &a), RF_ERR);
    snprintf(want, sizeof want, "%s: rank 9 is not supported", spec);
    assert_error_is(want);
    assert_null(a.data);
}

/* float32 [2, 3] and int32 [4] come back as float64 with their rank and dims. */
static void test_rank_and_dims(void **state) {
    char path[4096], spec[4200], shape[64];
    write_input(state, path, "in.h5");
    snprintf(spec, sizeof spec, "%s:/x", path);
    assert_reads_x(spec);
    rf_vqc_array a;
    snprintf(spec, sizeof spec, "%s:/n", path);
    if (rf_vqc_read_spec(spec, &a) != RF_OK) fail_msg("%s", rf_last_error());
    const double want[4] = {1, -2, 3, -4};
    assert_int_equal(a.rank, 1);
    assert_int_equal(a.dims[0], 4);
    assert_int_equal(a.count, 4);
    assert_memory_equal(a.data, want, sizeof want);
    assert_string_equal(rf_vqc_shape_str(&a, shape, sizeof shape), "[4]");
    rf_vqc_array_free(&a);
    a = (rf_vqc_array){.rank = 3, .dims = {2, 6, 3}};
    assert_string_equal(rf_vqc_shape_str(&a, shape, sizeof shape), "[2, 6, 3]");
}

/* One dataset of the output, read with h5_util: float64 of shape [len] holding want. */
static void assert_dataset(hid_t f, const char *name, const double *want, hsize_t len) {
    hid_t d;
    assert_int_equal(rf_h5_open_dataset(f, name, &d), RF_OK);
    hsize_t dims[1];
    assert_int_equal(rf_h5_dataset_rank(d, dims, 1), 1);
    assert_int_equal(dims[0], len);
    hid_t t = H5Dget_type(d);
    assert_true(H5Tequal(t, H5T_IEEE_F64LE) > 0);
    H5Tclose(t);
    double got[8];
    assert_int_equal(rf_h5_read_dataset(d, H5T_NATIVE_DOUBLE, got), RF_OK);
    assert_memory_equal(got, want, len * sizeof *want);
    H5Dclose(d);
}

static void assert_attr_str(hid_t f, const char *name, const char *want) {
    char *s = NULL;
    assert_int_equal(rf_h5_read_attr_str(f, ".", name, &s), RF_OK);
    assert_string_equal(s, want);
    free(s);
}

static void test_write_output(void **state) {
    char path[4096], tmp[4200];
    in_dir(path, state, "out.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const double p[4] = {0.5, 0.25, 0.125, 0.125}, z[2] = {0.5, -0.25}, S[1] = {0.6931},
                 re[4] = {0.5, 0, -0.25, 0.125}, im[4] = {0, 0.5, 0.25, -0.125};
    const rf_vqc_output o = {.qubits = 2, .layers = 3, .entangler = "ring", .precision = "c64",
                             .input = "in.h5:/x", .angles = "angles.h5:/random",
                             .probabilities = p, .expval_z = z, .entropy = S, .state_real = re,
                             .state_imag = im};
    if (rf_vqc_write_output(path, &o) != RF_OK) fail_msg("%s", rf_last_error());
    assert_false(exists(tmp));

    hid_t f;
    assert_int_equal(rf_h5_open(path, &f), RF_OK);
    assert_dataset(f, "/probabilities", p, 4);
    assert_dataset(f, "/expval_z", z, 2);
    assert_dataset(f, "/entropy", S, 1);
    assert_dataset(f, "/state_real", re, 4);
    assert_dataset(f, "/state_imag", im, 4);
    int64_t v = 0;
    assert_int_equal(rf_h5_read_attr_i64(f, ".", "qubits", &v), RF_OK);
    assert_int_equal(v, 2);
    assert_int_equal(rf_h5_read_attr_i64(f, ".", "layers", &v), RF_OK);
    assert_int_equal(v, 3);
    assert_attr_str(f, "entangler", "ring");
    assert_attr_str(f, "precision", "c64");
    assert_attr_str(f, "input", "in.h5:/x");
    assert_attr_str(f, "angles", "angles.h5:/random");
    rf_h5_close(f);

    /* and it reads back as an input spec */
    char spec[4200];
    snprintf(spec, sizeof spec, "%s:/probabilities", path);
    rf_vqc_array a;
    assert_int_equal(rf_vqc_read_spec(spec, &a), RF_OK);
    assert_memory_equal(a.data, p, sizeof p);
    rf_vqc_array_free(&a);

    /* a folder that is not there: RF_ERR naming the path, nothing written */
    in_dir(path, state, "no/such/out.h5");
    assert_int_equal(rf_vqc_write_output(path, &o), RF_ERR);
    assert_error_mentions(path, "No such file");
    assert_false(exists(path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_spec_parsing),
        T(test_missing_file),
        T(test_missing_dataset),
        T(test_not_real_or_rank_too_high),
        T(test_rank_and_dims),
        T(test_write_output),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
