/* test_matrix_record.c -- /matrices/NAME in shards (io/matrix_record.h).
 *
 * Round trips (codes exact, fp16 bit patterns exact, attributes), uint8 vs uint16 codes by
 * nbits, the on-disk types h5py relies on, and that verification catches what it must: a missing
 * file, another config, another name, a flipped byte inside the codes or codebooks chunks, a
 * truncated file, attributes that disagree with the shapes. Failed writes (missing directory,
 * full disk) leave nothing at PATH or PATH.tmp. Assembly: test_checkpoint.c. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "full_disk_fixture.h"
#include "corrupt_fixture.h"
#include "io_asserts.h"
#include "matrix_fixture.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/h5_container.h"
#include "io/matrix_record.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2,\"seed\":7}";

/* ---- round trips ---- */

static void roundtrip(void **state, int M, int nbits, int og, int ig, int64_t out, int64_t in,
                      int code_size) {
    char path[4096], tmp[4104];
    in_dir(path, state, "model.layers.0.mlp.down_proj.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    matrix_fixture f;
    make_matrix_fixture(&f, "model.layers.0.mlp.down_proj", out, in, M, nbits, og, ig, (uint64_t)nbits);
    if (rf_matrix_shard_write(path, CONFIG, &f.rec) != RF_OK) fail_msg("%s", rf_last_error());
    assert_false(exists(tmp));
    rf_aqlm_stats st;
    if (rf_matrix_shard_verify(path, f.rec.name, CONFIG, &st) != RF_OK) fail_msg("%s", rf_last_error());
    assert_memory_equal(&st, f.rec.stats, sizeof st); /* verification hands back the stats */
    assert_reads_back(path, &f);

    char *config = NULL;
    assert_int_equal(rf_container_read_config(path, &config), RF_OK);
    assert_string_equal(config, CONFIG);
    free(config);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attrs(file, RF_SHARD_FORMAT, CONFIG);
    assert_dataset_layout(file, f.rec.name, "codes", code_size);
    assert_dataset_layout(file, f.rec.name, "codebooks", 0);
    assert_dataset_layout(file, f.rec.name, "scales", 0);
    assert_int_equal(attr_i64(file, "/matrices/model.layers.0.mlp.down_proj", "nbits_per_codebook"),
                     nbits);
    H5Fclose(file);
    free_matrix_fixture(&f);
}

static void test_roundtrip_uint8_codes(void **state) { roundtrip(state, 1, 8, 1, 8, 32, 64, 1); }
static void test_roundtrip_1bit_codes(void **state) { roundtrip(state, 3, 1, 2, 2, 8, 8, 1); }
static void test_roundtrip_uint16_codes(void **state) { roundtrip(state, 2, 9, 2, 4, 16, 32, 2); }
/* K = 65536: the codebooks [2, 65536, 2, 4] span several 1 MiB chunks. */
static void test_roundtrip_16bit_codes(void **state) { roundtrip(state, 2, 16, 2, 4, 64, 64, 2); }

/* A leftover PATH.tmp (a crashed run) and an existing PATH (a shard being recomputed) are
 * both replaced. */
static void test_write_replaces_old_files(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "s.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    fputs("half a file", fp);
    fclose(fp);
    matrix_fixture a, b;
    make_matrix_fixture(&a, "w", 8, 16, 1, 4, 1, 4, 1);
    make_matrix_fixture(&b, "w", 8, 16, 1, 4, 1, 4, 2);
    assert_int_equal(rf_matrix_shard_write(path, CONFIG, &a.rec), RF_OK);
    assert_int_equal(rf_matrix_shard_write(path, CONFIG, &b.rec), RF_OK);
    assert_false(exists(tmp));
    assert_reads_back(path, &b);
    free_matrix_fixture(&a);
    free_matrix_fixture(&b);
}

/* ---- verification failures ---- */

static void test_verify_missing_file(void **state) {
    char path[4096];
    in_dir(path, state, "nothing.h5");
    assert_int_equal(rf_matrix_shard_verify(path, "x", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "No such file");
}

static void test_verify_not_hdf5(void **state) {
    char path[4096];
    in_dir(path, state, "text.h5");
    FILE *fp = fopen(path, "w");
    fputs("this is not HDF5\n", fp);
    fclose(fp);
    assert_int_equal(rf_matrix_shard_verify(path, "x", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "HDF5");
    char **names;
    int n;
    assert_int_equal(rf_matrix_list(path, &names, &n), RF_ERR);
    assert_error_mentions(path, "HDF5");
}

static void test_verify_config_mismatch(void **state) {
    char path[4096];
    matrix_fixture f;
    write_matrix_shard(state, path, &f, CONFIG);
    assert_int_equal(rf_matrix_shard_verify(path, f.rec.name, "{\"method\":\"aqlm\",\"seed\":8}", NULL), RF_ERR);
    assert_error_mentions(path, "config");
    free_matrix_fixture(&f);
}

static void test_verify_missing_name(void **state) {
    char path[4096];
    matrix_fixture f;
    write_matrix_shard(state, path, &f, CONFIG);
    assert_int_equal(rf_matrix_shard_verify(path, "model.layers.3.mlp.up_proj", CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "has no /matrices/model.layers.3.mlp.up_proj");
    free_matrix_fixture(&f);
}

/* One flipped byte in a chunk's raw data: the Fletcher32 checksum must catch it, in verify and
 * in rf_matrix_read (in assembly: test_checkpoint.c). */
static void flipped_byte(void **state, const char *leaf) {
    char path[4096], want[512];
    matrix_fixture f;
    write_damaged_matrix_shard(state, path, &f, CONFIG, leaf, want);

    assert_int_equal(rf_matrix_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, want);
    assert_error_mentions("checksum", NULL);
    rf_aqlm_matrix q;
    assert_int_equal(rf_matrix_read(path, f.rec.name, &q, NULL, NULL, 0), RF_ERR);
    assert_error_mentions(path, want);

    /* Resume recomputes the shard: writing over the damaged file repairs it. */
    assert_int_equal(rf_matrix_shard_write(path, CONFIG, &f.rec), RF_OK);
    assert_int_equal(rf_matrix_shard_verify(path, f.rec.name, CONFIG, NULL), RF_OK);
    free_matrix_fixture(&f);
}

static void test_verify_flipped_codes_byte(void **state) { flipped_byte(state, "codes"); }
static void test_verify_flipped_codebooks_byte(void **state) { flipped_byte(state, "codebooks"); }

static void test_verify_truncated(void **state) {
    char path[4096];
    matrix_fixture f;
    write_matrix_shard(state, path, &f, CONFIG);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_equal(rf_matrix_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, NULL);
    free_matrix_fixture(&f);
}

/* Attributes that disagree with the datasets (in_features doubled): the shape check names the
 * dataset and both shapes. */
static void test_verify_shape_mismatch(void **state) {
    char path[4096];
    matrix_fixture f;
    write_matrix_shard(state, path, &f, CONFIG);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    /* (H5Aopen_by_name + H5Awrite fails in HDF5 1.10.8: open the group first.) */
    hid_t g = H5Gopen2(file, "/matrices/model.layers.3.mlp.gate_proj", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "in_features", H5P_DEFAULT);
    int64_t in = 256;
    assert_true(H5Awrite(a, H5T_NATIVE_INT64, &in) >= 0);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(file);
    reseal_image(path);
    assert_int_equal(rf_matrix_shard_verify(path, f.rec.name, CONFIG, NULL), RF_ERR);
    assert_error_mentions(path, "/matrices/model.layers.3.mlp.gate_proj/codes is [64, 16, 2], "
                                "expected [64, 32, 2]");
    free_matrix_fixture(&f);
}

/* ---- failed writes leave nothing at PATH ---- */

static void test_write_missing_directory(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "no/such/dir/shard.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    matrix_fixture f;
    make_matrix_fixture(&f, "w", 8, 16, 1, 4, 1, 4, 1);
    assert_int_equal(rf_matrix_shard_write(path, CONFIG, &f.rec), RF_ERR);
    assert_error_mentions(path, "No such file");
    assert_false(exists(path));
    assert_false(exists(tmp));
    free_matrix_fixture(&f);
}

/* A full disk, as RLIMIT_FSIZE makes one: the file is created, but writes past 16 KiB fail
 * (EFBIG; SIGXFSZ ignored). */
static void test_write_full_disk(void **state) {
    char path[4096], tmp[4104];
    in_dir(path, state, "shard.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    matrix_fixture f;
    make_matrix_fixture(&f, "w", 256, 1024, 2, 8, 1, 8, 1); /* 64 KiB of codes */
    const full_disk disk = full_disk_begin(16384);
    int rc = rf_matrix_shard_write(path, CONFIG, &f.rec);
    full_disk_end(&disk);
    assert_int_equal(rc, RF_ERR);
    assert_error_mentions(path, "cannot write");
    assert_false(exists(path));
    assert_false(exists(tmp));
    free_matrix_fixture(&f);
}

static void test_bad_tensor_name(void **state) {
    char path[4096];
    in_dir(path, state, "shard.h5");
    matrix_fixture f;
    make_matrix_fixture(&f, "a/b", 8, 16, 1, 4, 1, 4, 1);
    assert_int_equal(rf_matrix_shard_write(path, CONFIG, &f.rec), RF_ERR);
    assert_error_mentions(path, "a/b");
    assert_false(exists(path));
    free_matrix_fixture(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_roundtrip_uint8_codes),
        T(test_roundtrip_1bit_codes),
        T(test_roundtrip_uint16_codes),
        T(test_roundtrip_16bit_codes),
        T(test_write_replaces_old_files),
        T(test_verify_missing_file),
        T(test_verify_not_hdf5),
        T(test_verify_config_mismatch),
        T(test_verify_missing_name),
        T(test_verify_flipped_codes_byte),
        T(test_verify_flipped_codebooks_byte),
        T(test_verify_truncated),
        T(test_verify_shape_mismatch),
        T(test_write_missing_directory),
        T(test_write_full_disk),
        T(test_bad_tensor_name),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
