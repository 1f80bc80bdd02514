/* test_xtx.c -- calibration statistics files (/xtx/NAME float32/float64 [in, in], nsamples).
 *
 * Writing with a shared matrix (a hard link), reading float64 and float32 files back, and one test
 * per kind of bad input, each checking that the error names the file and the dataset: missing,
 * wrong shape, not floating point, NaN, not symmetric. The shape check before any allocation
 * (rf_xtx_check) names the file, the dataset and both shapes. The content fingerprint is the same
 * for the same statistics in another file and differs for a changed sampled value, nsamples or
 * name. The public case's xtx.h5 is read when present. The on-disk writer (calibrate's, a few
 * entries at a time) makes the same file as rf_xtx_write: the same values and links, its image
 * checksum, and the same bytes but for the superblock's end-of-file address (the disk driver
 * counts the user block in it, the in-memory image does not); a failed one leaves nothing. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/image_checksum.h"
#include "io/xtx_file.h"

/* ---- fixtures: a fresh temporary directory per test ---- */


static void assert_error_mentions(const char *a, const char *b) {
    const char *e = rf_last_error();
    print_message("    error: %s\n", e); /* what a user would read */
    if (!strstr(e, a) || (b && !strstr(e, b)))
        fail_msg("error \"%s\" does not mention \"%s\"%s%s", e, a, b ? " and " : "", b ? b : "");
}

/* A symmetric n x n matrix whose entries differ (so a transposed read would show). */
static double *sym_matrix(int64_t n, double salt) {
    double *a = malloc((size_t)(n * n) * sizeof *a);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            a[i * n + j] = (i == j) ? 10.0 + i : salt / (1.0 + (double)(i + j)) + 0.001 * (i * j);
    return a;
}

static void assert_matches(const float *got, const double *want, int64_t n) {
    for (int64_t i = 0; i < n * n; i++) assert_true(got[i] == (float)want[i]);
}

/* Writes one dataset /xtx/NAME of file type ftype from doubles, without rf_xtx_write: the files
 * other tools make (float32, wrong shapes, integers, NaN). */
static void write_raw(const char *path, const char *name, hid_t ftype, int rank,
                      const hsize_t *dims, const double *data) {
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t g = H5Gcreate2(file, "/xtx", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Gclose(g);
    H5Fclose(file);
}

/* ---- tests ---- */

/* q and k share their input, hence one XTX: a hard link, read back under both names. */
static void test_write_read_hard_link(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "xtx.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    double *attn = sym_matrix(24, 1.0), *down = sym_matrix(40, 2.0);
    const char *names[3] = {"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
                            "model.layers.0.mlp.down_proj"};
    const double *xtx[3] = {attn, attn, down};
    const int64_t in[3] = {24, 24, 40};
    if (rf_xtx_write(path, 3, names, xtx, in, 4096) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(access(tmp, F_OK), -1);

    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float buf[40 * 40];
    for (int i = 0; i < 3; i++) {
        int64_t ns = -1;
        assert_true(rf_xtx_has(f, names[i]));
        if (rf_xtx_read(f, names[i], in[i], buf, &ns) != RF_OK) fail_msg("%s", rf_last_error());
        assert_matches(buf, xtx[i], in[i]);
        assert_int_equal(ns, 4096);
    }
    assert_false(rf_xtx_has(f, "model.layers.0.self_attn.v_proj"));
    rf_xtx_close(f);

    /* One object with two names; float64, chunked, checksummed. */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5O_info_t qi, ki;
    assert_true(H5Oget_info_by_name(file, "/xtx/model.layers.0.self_attn.q_proj", &qi,
                                    H5P_DEFAULT) >= 0);
    assert_true(H5Oget_info_by_name(file, "/xtx/model.layers.0.self_attn.k_proj", &ki,
                                    H5P_DEFAULT) >= 0);
    assert_true(qi.addr == ki.addr);
    assert_int_equal(qi.rc, 2);
    hid_t d = H5Dopen2(file, "/xtx/model.layers.0.mlp.down_proj", H5P_DEFAULT);
    hid_t t = H5Dget_type(d), dcpl = H5Dget_create_plist(d);
    assert_true(H5Tequal(t, H5T_IEEE_F64LE) > 0);
    assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
    unsigned flags;
    size_t nelem = 0;
    assert_int_equal(H5Pget_filter2(dcpl, 0, &flags, &nelem, NULL, 0, NULL, NULL),
                     H5Z_FILTER_FLETCHER32);
    H5Pclose(dcpl);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(file);
    free(attn);
    free(down);
}

static void test_float32_on_disk(void **state) {
    char path[4096];
    in_dir(path, state, "xtx32.h5");
    double *a = sym_matrix(16, 3.0);
    const hsize_t dims[2] = {16, 16};
    write_raw(path, "m", H5T_IEEE_F32LE, 2, dims, a);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float buf[16 * 16];
    int64_t ns = -1;
    if (rf_xtx_read(f, "m", 16, buf, &ns) != RF_OK) fail_msg("%s", rf_last_error());
    assert_matches(buf, a, 16);
    assert_int_equal(ns, 0); /* no nsamples attribute */
    rf_xtx_close(f);
    free(a);
}

static void test_wrong_shape(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    double *a = sym_matrix(4, 1.0);
    const hsize_t dims[2] = {3, 4};
    write_raw(path, "model.layers.0.mlp.down_proj", H5T_IEEE_F64LE, 2, dims, a);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float *buf = malloc(512 * 512 * sizeof *buf);
    assert_int_equal(rf_xtx_read(f, "model.layers.0.mlp.down_proj", 512, buf, NULL), RF_ERR);
    assert_error_mentions(path, "/xtx/model.layers.0.mlp.down_proj is [3, 4], expected [512, 512]");
    rf_xtx_close(f);
    free(buf);
    free(a);
}

static void test_not_float(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    double *a = sym_matrix(4, 1.0);
    const hsize_t dims[2] = {4, 4};
    write_raw(path, "m", H5T_STD_I32LE, 2, dims, a);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float buf[16];
    assert_int_equal(rf_xtx_read(f, "m", 4, buf, NULL), RF_ERR);
    assert_error_mentions(path, "/xtx/m is not floating point");
    rf_xtx_close(f);
    free(a);
}

static void test_nan(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    double *a = sym_matrix(8, 1.0);
    a[2 * 8 + 5] = a[5 * 8 + 2] = NAN;
    const char *names[1] = {"m"};
    const double *xtx[1] = {a};
    const int64_t in[1] = {8};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, in, 10), RF_OK);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float buf[64];
    assert_int_equal(rf_xtx_read(f, "m", 8, buf, NULL), RF_ERR);
    assert_error_mentions(path, "/xtx/m has a non-finite value");
    assert_error_mentions("[2, 5]", NULL);
    rf_xtx_close(f);
    free(a);
}

static void test_asymmetric(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    int64_t n = 70; /* spans several 32 x 32 tiles */
    double *a = sym_matrix(n, 1.0);
    a[3 * n + 66] += 0.5;
    const char *names[1] = {"m"};
    const double *xtx[1] = {a};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, &n, 10), RF_OK);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float *buf = malloc((size_t)(n * n) * sizeof *buf);
    assert_int_equal(rf_xtx_read(f, "m", n, buf, NULL), RF_ERR);
    assert_error_mentions(path, "/xtx/m is not symmetric: [3, 66]");
    /* A difference far below 1e-4 of the largest entry is rounding, not asymmetry. */
    a[3 * n + 66] -= 0.5 - 1e-7;
    rf_xtx_close(f);
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, &n, 10), RF_OK);
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    assert_int_equal(rf_xtx_read(f, "m", n, buf, NULL), RF_OK);
    rf_xtx_close(f);
    free(buf);
    free(a);
}

static void test_missing(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    double *a = sym_matrix(4, 1.0);
    const char *names[1] = {"model.layers.0.mlp.up_proj"};
    const double *xtx[1] = {a};
    const int64_t in[1] = {4};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, in, 10), RF_OK);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    float buf[16];
    assert_int_equal(rf_xtx_read(f, "model.layers.0.mlp.gate_proj", 4, buf, NULL), RF_ERR);
    assert_error_mentions(path, "has no /xtx/model.layers.0.mlp.gate_proj");
    rf_xtx_close(f);
    free(a);

    /* A file without /xtx at all. */
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(file);
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    assert_false(rf_xtx_has(f, "m"));
    assert_int_equal(rf_xtx_read(f, "m", 4, buf, NULL), RF_ERR);
    assert_error_mentions(path, "has no /xtx/m");
    rf_xtx_close(f);
}

static void test_open_errors(void **state) {
    char path[4096];
    rf_xtx_file *f = NULL;
    in_dir(path, state, "absent.h5");
    assert_int_equal(rf_xtx_open(&f, path), RF_ERR);
    assert_error_mentions(path, "No such file");
    in_dir(path, state, "text.h5");
    FILE *fp = fopen(path, "w");
    fputs("not HDF5 at all", fp);
    fclose(fp);
    assert_int_equal(rf_xtx_open(&f, path), RF_ERR);
    assert_error_mentions(path, "HDF5");
}

static void test_write_missing_directory(void **state) {
    char path[4096];
    in_dir(path, state, "missing/xtx.h5");
    double a[4] = {1, 0, 0, 1};
    const char *names[1] = {"m"};
    const double *xtx[1] = {a};
    const int64_t in[1] = {2};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, in, 1), RF_ERR);
    assert_error_mentions(path, NULL);
    assert_int_equal(access(path, F_OK), -1);
}

/* The public case (aqlm-256x512), when this checkout has it. */
static void test_public_case(void **state) {
    char path[4096];
    const char *dir = getenv("RF_CASES_DIR");
    if (dir) {
        snprintf(path, sizeof path, "%s/aqlm-256x512/xtx.h5", dir);
    } else {
        /* tests/io/test_xtx.c -> the checkout's sibling shared/cases */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *end = strstr(path, "tests/io/test_xtx.c");
        if (!end) skip();
        strcpy(end, "../shared/cases/aqlm-256x512/xtx.h5");
    }
    if (access(path, R_OK) != 0) skip();
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    assert_true(rf_xtx_has(f, "model.layers.0.mlp.down_proj"));
    float *buf = malloc(512 * 512 * sizeof *buf);
    int64_t ns = 0;
    if (rf_xtx_read(f, "model.layers.0.mlp.down_proj", 512, buf, &ns) != RF_OK)
        fail_msg("%s", rf_last_error());
    assert_true(ns > 0);
    for (int i = 0; i < 512; i++) assert_true(buf[i * 512 + i] >= 0); /* a Gram matrix */
    assert_int_equal(rf_xtx_read(f, "model.layers.0.mlp.down_proj", 256, buf, NULL), RF_ERR);
    assert_error_mentions(path, "is [512, 512], expected [256, 256]");
    rf_xtx_close(f);
    free(buf);
}

/* [8, 8] statistics for a matrix of in_features 1048576: refused from the metadata alone (no
 * buffer of in^2 floats is asked for), naming the file, the dataset and both shapes. */
static void test_check_shape(void **state) {
    char path[4096];
    in_dir(path, state, "xtx.h5");
    double *a = sym_matrix(8, 1.0);
    const char *names[1] = {"model.layers.0.mlp.down_proj"};
    const double *xtx[1] = {a};
    const int64_t in[1] = {8};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, in, 16), RF_OK);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    assert_int_equal(rf_xtx_check(f, names[0], 8), RF_OK);
    assert_int_equal(rf_xtx_check(f, names[0], 1048576), RF_ERR);
    assert_error_mentions(path, "/xtx/model.layers.0.mlp.down_proj is [8, 8], expected "
                                "[1048576, 1048576]");
    assert_int_equal(rf_xtx_check(f, "model.layers.0.mlp.up_proj", 8), RF_ERR);
    assert_error_mentions(path, "has no /xtx/model.layers.0.mlp.up_proj");
    rf_xtx_close(f);
    free(a);
}

static void fingerprint_of(const char *path, const double *a, int64_t n, int64_t nsamples,
                           const char *name, char fp[17]) {
    const char *names[1] = {name};
    const double *xtx[1] = {a};
    assert_int_equal(rf_xtx_write(path, 1, names, xtx, &n, nsamples), RF_OK);
    rf_xtx_file *f;
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    if (rf_xtx_fingerprint(f, fp) != RF_OK) fail_msg("%s", rf_last_error());
    rf_xtx_close(f);
    assert_int_equal(strlen(fp), 16);
}

static void test_fingerprint(void **state) {
    enum { N = 40 };
    char p1[4096], p2[4096], base[17], same[17], fp[17];
    in_dir(p1, state, "a.h5");
    in_dir(p2, state, "b.h5");
    double *a = sym_matrix(N, 1.0);
    fingerprint_of(p1, a, N, 100, "m", base);
    fingerprint_of(p2, a, N, 100, "m", same);
    assert_string_equal(base, same); /* another file, the same statistics */
    fingerprint_of(p2, a, N, 101, "m", fp);
    assert_string_not_equal(base, fp); /* nsamples */
    fingerprint_of(p2, a, N, 100, "n", fp);
    assert_string_not_equal(base, fp); /* name */
    a[(N / 2) * N + 3] += 1e-3; /* a value of the middle row */
    a[3 * N + N / 2] += 1e-3;
    fingerprint_of(p2, a, N, 100, "m", fp);
    assert_string_not_equal(base, fp);
    free(a);
}

static unsigned char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)*n);
    assert_int_equal(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return b;
}

static void test_writer_matches_write(void **state) {
    char a[4096], b[4096], tmp[4104];
    in_dir(a, state, "mem.h5");
    in_dir(b, state, "disk.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", b);
    double *x0 = sym_matrix(24, 1.0), *x1 = sym_matrix(40, 2.0), *x2 = sym_matrix(24, 3.0);
    const char *names[4] = {"l0.q", "l0.k", "l0.down", "l1.q"};
    const double *xtx[4] = {x0, x0, x1, x2};
    const int64_t in[4] = {24, 24, 40, 24};
    assert_int_equal(rf_xtx_write(a, 4, names, xtx, in, 77), RF_OK);
    rf_xtx_writer *w;
    assert_int_equal(rf_xtx_writer_create(&w, b, (24 * 24 * 2 + 40 * 40) * 8), RF_OK);
    rf_xtx_writer_add(w, 3, names, xtx, in, 77); /* layer 0, then layer 1 */
    rf_xtx_writer_add(w, 1, names + 3, xtx + 3, in + 3, 77);
    if (rf_xtx_writer_finish(w, RF_OK) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(rf_image_check(b, 1), RF_OK);

    rf_xtx_file *f;
    double got[40 * 40];
    assert_int_equal(rf_xtx_open(&f, b), RF_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rf_xtx_read_f64(f, names[i], in[i], got), RF_OK);
        assert_memory_equal(got, xtx[i], (size_t)(in[i] * in[i]) * sizeof(double));
    }
    rf_xtx_close(f);
    hid_t file = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5O_info_t qi, ki;
    assert_true(H5Oget_info_by_name(file, "/xtx/l0.q", &qi, H5P_DEFAULT) >= 0);
    assert_true(H5Oget_info_by_name(file, "/xtx/l0.k", &ki, H5P_DEFAULT) >= 0);
    assert_true(qi.addr == ki.addr);
    H5Fclose(file);

    long na, nb;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_int_equal(na, nb);
    const long eof_field = RF_IMAGE_HEADER_BYTES + 40; /* superblock v0: end-of-file address */
    for (long i = RF_IMAGE_HEADER_BYTES; i < na; i++)
        if (ba[i] != bb[i] && (i < eof_field || i >= eof_field + 8))
            fail_msg("byte %ld differs: %u vs %u", i, ba[i], bb[i]);
    free(ba), free(bb);

    /* A failed assembly leaves neither the file nor its temporary. */
    in_dir(b, state, "failed.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", b);
    assert_int_equal(rf_xtx_writer_create(&w, b, 24 * 24 * 8), RF_OK);
    rf_xtx_writer_add(w, 1, names, xtx, in, 77);
    assert_int_equal(rf_xtx_writer_finish(w, RF_ERR), RF_ERR);
    assert_int_equal(access(b, F_OK), -1);
    assert_int_equal(access(tmp, F_OK), -1);
    free(x0), free(x1), free(x2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_write_read_hard_link),
        T(test_float32_on_disk),
        T(test_wrong_shape),
        T(test_not_float),
        T(test_nan),
        T(test_asymmetric),
        T(test_missing),
        T(test_open_errors),
        T(test_write_missing_directory),
        T(test_public_case),
        T(test_check_shape),
        T(test_fingerprint),
        T(test_writer_matches_write),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
