/* test_vit_record.c -- /vit/NAME in shards (io/vit_record.h): a generated matrix and its
 * generator's tensors round-trip with every attribute; the shard's /matrices is there and empty;
 * verification refuses another config, a missing name and a flipped byte (Fletcher32; and any
 * flipped byte before HDF5 opens the file, by the image checksum, in assembly too). Assembly
 * with /vit records, and listing a file without /vit: test_checkpoint.c. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "corrupt_fixture.h"
#include "vit_fixture.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/checkpoint.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"vit_share\":\"0:1\"}";

static void test_roundtrip(void **state) {
    char path[4096];
    vit_fixture f;
    write_vit_shard(state, path, &f, CONFIG);
    rf_gen_stats st;
    if (rf_vit_shard_verify(path, VIT_NAME, CONFIG, &st) != RF_OK) fail_msg("%s", rf_last_error());
    assert_true(st.rel_w_err == 0.5 && st.shared_rel_w_err == 0.8 && st.baseline_rel_w_err == 0.6);
    assert_true(st.qubits == 5 && st.layers == 2 && st.params == 131 && st.baseline_params == 140);
    assert_true(st.steps == 200 && st.seconds == 1.25);
    rf_vit_info info;
    float *w = NULL;
    assert_int_equal(rf_vit_read(path, VIT_NAME, &info, &w), RF_OK);
    assert_memory_equal(w, f.weight, sizeof f.weight);
    free(w);
    assert_string_equal(info.method, "qgp");
    assert_string_equal(info.shared_from, VIT_SHARED_FROM);
    assert_true(info.out_features == 6 && info.in_features == 4 && info.ngenerator == 1);
    assert_true(info.beats_sharing == 1 && info.beats_baseline == 1);
    char **names;
    int n;
    assert_int_equal(rf_vit_list(path, &names, &n), RF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], VIT_NAME);
    rf_container_free_names(names, n);
    assert_int_equal(rf_matrix_list(path, &names, &n), RF_OK); /* an empty /matrices */
    assert_int_equal(n, 0);
    rf_container_free_names(names, n);
}

static void test_refusals(void **state) {
    char path[4096], dset[512];
    vit_fixture f;
    write_vit_shard(state, path, &f, CONFIG);
    assert_int_equal(rf_vit_shard_verify(path, VIT_NAME, "{\"other\":1}", NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "another configuration"));
    assert_int_equal(rf_vit_shard_verify(path, "vision_model.encoder.layers.1.mlp.fc2", CONFIG, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "has no /vit/vision_model.encoder.layers.1.mlp.fc2"));
    snprintf(dset, sizeof dset, "/vit/%s/generator/angles", VIT_NAME);
    damage_first_chunk(path, dset);
    assert_int_equal(rf_vit_shard_verify(path, VIT_NAME, CONFIG, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), path));
    assert_non_null(strstr(rf_last_error(), "checksum"));
}

/* Any flipped byte of a shard fails its image checksum before HDF5 opens it (io/image_checksum.h),
 * in verification and in assembly alike. */
static void test_image_checksum(void **state) {
    char path[4096], ckpt[4096];
    vit_fixture f;
    write_vit_shard(state, path, &f, CONFIG);
    flip_byte(path, RF_IMAGE_HEADER_BYTES + 40);
    assert_int_equal(rf_vit_shard_verify(path, VIT_NAME, CONFIG, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), path));
    assert_non_null(strstr(rf_last_error(), "image checksum does not match"));
    const char *shards[1] = {path}, *names[1] = {VIT_NAME};
    const rf_record_kind kinds[1] = {RF_RECORD_VIT};
    in_dir(ckpt, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, kinds), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "image checksum does not match"));
    assert_int_equal(access(ckpt, F_OK), -1);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_roundtrip), T(test_refusals), T(test_image_checksum)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
