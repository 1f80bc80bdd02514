/* test_h5_container.c -- the riverforge HDF5 file as a container (io/h5_container.h): a shard's
 * root attributes as written and as checked (each mismatch named, with the file), record names
 * that cannot be HDF5 link names, record paths, sorted listings with and without a group, and
 * the root config as other writers store it (fixed-length strings). */
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

#include "common/rf_error.h"
#include "io/h5_container.h"
#include "io/h5_util.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"num_codebooks\":2,\"seed\":7}";

/* DIR/name: a shard of config holding the empty groups /matrices/NAME for each of names. */
static void write_shard(void **state, char *path, const char *name, const char *config, int n,
                        const char *const *names) {
    in_dir(path, state, name);
    hid_t file;
    if (rf_container_create_shard(path, config, "x", &file) != RF_OK) fail_msg("%s", rf_last_error());
    for (int i = 0; i < n; i++) {
        char g[RF_CONTAINER_PATH_LEN];
        rf_container_record_path(g, RF_MATRIX_GROUP, names[i], NULL);
        rf_h5_create_group(file, g);
    }
    assert_int_equal(rf_h5_finish(file, path, RF_OK), RF_OK);
}

static void test_shard_root(void **state) {
    char path[4096];
    write_shard(state, path, "s.h5", CONFIG, 0, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_root_attrs(file, RF_SHARD_FORMAT, CONFIG);
    assert_int_equal(H5Aexists(file, "provenance"), 0); /* checkpoints only */
    H5Fclose(file);
    assert_int_equal(rf_container_open_shard(path, CONFIG, &file), RF_OK);
    rf_h5_close(file);
    char *config = NULL;
    assert_int_equal(rf_container_read_config(path, &config), RF_OK);
    assert_string_equal(config, CONFIG);
    free(config);
}

/* The first character where the configs differ is named, with the file. */
static void test_check_root_config(void **state) {
    char path[4096];
    write_shard(state, path, "s.h5", CONFIG, 0, NULL);
    hid_t file;
    assert_int_equal(rf_container_open_shard(path, "{\"method\":\"aqlm\",\"seed\":8}", &file), RF_ERR);
    assert_error_mentions(path, "another configuration (config differs at character 18)");
}

/* A file of another format or format_version is refused, naming the file and both values. */
static void test_check_root_format(void **state) {
    char path[4096];
    in_dir(path, state, "c.h5");
    hid_t file = rf_h5_create_mem(path);
    rf_container_write_root(file, RF_CHECKPOINT_FORMAT, CONFIG, "{}");
    assert_int_equal(rf_h5_finish(file, path, RF_OK), RF_OK);
    assert_int_equal(rf_container_open_shard(path, CONFIG, &file), RF_ERR);
    assert_error_mentions(path, "format is \"riverforge.checkpoint\", expected \"riverforge.shard\"");

    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    int64_t version = RF_FORMAT_VERSION + 1;
    assert_true(H5Awrite(a, H5T_NATIVE_INT64, &version) >= 0);
    H5Aclose(a);
    H5Fclose(f);
    assert_int_equal(rf_h5_open(path, &file), RF_OK);
    assert_int_equal(rf_container_check_root(file, path, RF_CHECKPOINT_FORMAT, CONFIG), RF_ERR);
    rf_h5_close(file);
    assert_error_mentions(path, "format_version is 2, expected 1");
}

static void test_check_name(void **state) {
    assert_int_equal(rf_container_check_name("f.h5", "model.layers.0.mlp.up_proj"), RF_OK);
    const char *bad[3] = {"", "a/b", "."};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rf_container_check_name("f.h5", bad[i]), RF_ERR);
        assert_error_mentions("f.h5: tensor name", "cannot name an HDF5 group");
    }
    char path[4096];
    hid_t file;
    in_dir(path, state, "s.h5");
    assert_int_equal(rf_container_create_shard(path, CONFIG, "a/b", &file), RF_ERR);
    assert_error_mentions(path, "\"a/b\"");
}

static void test_record_path(void **state) {
    char p[RF_CONTAINER_PATH_LEN];
    rf_container_record_path(p, RF_VIT_GROUP, "v.fc1", NULL);
    assert_string_equal(p, "/vit/v.fc1");
    rf_container_record_path(p, RF_MATRIX_GROUP, "m.q", "codes");
    assert_string_equal(p, "/matrices/m.q/codes");
}

/* Names come back in strcmp order whatever order they were written in; a missing group is no
 * names with missing_ok, RF_ERR naming the file and the group without. */
static void test_list(void **state) {
    char path[4096];
    const char *names[4] = {"b", "a.z", "B", "a"};
    write_shard(state, path, "s.h5", CONFIG, 4, names);
    char **list = NULL;
    int n = -1;
    assert_int_equal(rf_container_list(path, RF_MATRIX_GROUP, 0, &list, &n), RF_OK);
    assert_int_equal(n, 4);
    const char *want[4] = {"B", "a", "a.z", "b"};
    for (int i = 0; i < 4; i++) assert_string_equal(list[i], want[i]);
    rf_container_free_names(list, n);

    assert_int_equal(rf_container_list(path, RF_VIT_GROUP, 1, &list, &n), RF_OK);
    assert_int_equal(n, 0);
    assert_null(list);
    assert_int_equal(rf_container_list(path, RF_VIT_GROUP, 0, &list, &n), RF_ERR);
    assert_error_mentions(path, "has no /vit");
}

/* Other writers (h5py with numpy bytes) store fixed-length strings: those read too. */
static void test_fixed_length_string_attr(void **state) {
    char path[4096];
    in_dir(path, state, "fixed.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(CONFIG) + 3);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t a = H5Acreate2(file, "config", t, space, H5P_DEFAULT, H5P_DEFAULT);
    char buf[256] = {0};
    strcpy(buf, CONFIG);
    assert_true(H5Awrite(a, t, buf) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
    H5Fclose(file);
    char *config = NULL;
    if (rf_container_read_config(path, &config) != RF_OK) fail_msg("%s", rf_last_error());
    assert_string_equal(config, CONFIG);
    free(config);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_shard_root),
        T(test_check_root_config),
        T(test_check_root_format),
        T(test_check_name),
        T(test_record_path),
        T(test_list),
        T(test_fixed_length_string_attr),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
