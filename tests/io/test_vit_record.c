/* test_vit_record.c -- /vit/NAME in shards and checkpoints (io/vit_record.h): a generated matrix
 * and its generator's tensors round-trip with every attribute; verification refuses another
 * config, a missing name and a flipped byte (Fletcher32); assembly puts /matrices and /vit side
 * by side and listing returns each group's names. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "corrupt_fixture.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/checkpoint.h"
#include "io/vit_record.h"

static const char *CONFIG = "{\"method\":\"aqlm\",\"vit_share\":\"0:1\"}";
static const char *NAME = "vision_model.encoder.layers.1.mlp.fc1";

typedef struct {
    float weight[6 * 4], angles[2 * 5 * 3];
    rf_gen_result res;
    rf_gen_stats stats;
    rf_vit_record rec;
} fixture;

static void make_fixture(fixture *f) {
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 24; i++) f->weight[i] = 0.25f * (float)i - 3.0f;
    for (int i = 0; i < 30; i++) f->angles[i] = 0.01f * (float)i;
    f->res = (rf_gen_result){.out_features = 6, .in_features = 4, .weight = f->weight, .ntensors = 1};
    f->res.tensors[0] = (rf_gen_tensor){.name = "angles", .ndim = 3, .dims = {2, 5, 3}, .data = f->angles};
    f->stats = (rf_gen_stats){.rel_w_err = 0.5, .shared_rel_w_err = 0.8, .baseline_rel_w_err = 0.6,
                              .qubits = 5, .layers = 2, .params = 131, .baseline_params = 140,
                              .steps = 200, .seconds = 1.25};
    f->rec = (rf_vit_record){.name = NAME, .shared_from = "vision_model.encoder.layers.0.mlp.fc1",
                             .kind = RF_GEN_QGP, .res = &f->res, .stats = &f->stats, .device = "cpu"};
}

static void write_one(void **state, char *path, fixture *f) {
    make_fixture(f);
    in_dir(path, state, "vit.h5");
    if (rf_vit_shard_write(path, CONFIG, &f->rec) != RF_OK) fail_msg("%s", rf_last_error());
}

static void test_roundtrip(void **state) {
    char path[4096];
    fixture f;
    write_one(state, path, &f);
    rf_gen_stats st;
    if (rf_vit_shard_verify(path, NAME, CONFIG, &st) != RF_OK) fail_msg("%s", rf_last_error());
    assert_true(st.rel_w_err == 0.5 && st.shared_rel_w_err == 0.8 && st.baseline_rel_w_err == 0.6);
    assert_true(st.qubits == 5 && st.layers == 2 && st.params == 131 && st.baseline_params == 140);
    assert_true(st.steps == 200 && st.seconds == 1.25);
    rf_vit_info info;
    float *w = NULL;
    assert_int_equal(rf_vit_read(path, NAME, &info, &w), RF_OK);
    assert_memory_equal(w, f.weight, sizeof f.weight);
    free(w);
    assert_string_equal(info.method, "qgp");
    assert_string_equal(info.shared_from, "vision_model.encoder.layers.0.mlp.fc1");
    assert_true(info.out_features == 6 && info.in_features == 4 && info.ngenerator == 1);
    assert_true(info.beats_sharing == 1 && info.beats_baseline == 1);
    char **names;
    int n;
    assert_int_equal(rf_vit_list(path, &names, &n), RF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], NAME);
    rf_checkpoint_free_names(names, n);
    assert_int_equal(rf_checkpoint_list(path, &names, &n), RF_OK); /* an empty /matrices */
    assert_int_equal(n, 0);
    rf_checkpoint_free_names(names, n);
}

static void test_refusals(void **state) {
    char path[4096], dset[512];
    fixture f;
    write_one(state, path, &f);
    assert_int_equal(rf_vit_shard_verify(path, NAME, "{\"other\":1}", NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "another configuration"));
    assert_int_equal(rf_vit_shard_verify(path, "vision_model.encoder.layers.1.mlp.fc2", CONFIG, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "has no /vit/vision_model.encoder.layers.1.mlp.fc2"));
    snprintf(dset, sizeof dset, "/vit/%s/generator/angles", NAME);
    flip_byte(path, (off_t)first_chunk(path, dset) + 5);
    assert_int_equal(rf_vit_shard_verify(path, NAME, CONFIG, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), path));
    assert_non_null(strstr(rf_last_error(), "checksum"));
    const char *shards[1] = {path}, *names[1] = {NAME};
    const rf_record_kind kinds[1] = {RF_RECORD_VIT};
    char ckpt[4096];
    in_dir(ckpt, state, "checkpoint.h5");
    assert_int_equal(rf_checkpoint_assemble(ckpt, CONFIG, "{}", 1, shards, names, kinds), RF_ERR);
    assert_int_equal(access(ckpt, F_OK), -1);
}

static void test_assemble_with_matrices(void **state) {
    char vit_path[4096], mat_path[4096], ckpt[4096];
    fixture f;
    write_one(state, vit_path, &f);
    /* one AQLM matrix beside it */
    rf_aqlm_config c = {.num_codebooks = 1, .nbits_per_codebook = 2, .in_group_size = 2, .out_group_size = 1};
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, 4, 4, &c);
    rf_aqlm_stats qs = {.bits_per_weight = 1.5};
    rf_matrix_record mrec = {.name = "model.layers.0.self_attn.q_proj", .q = &q, .stats = &qs, .device = "cpu"};
    in_dir(mat_path, state, "mat.h5");
    assert_int_equal(rf_shard_write(mat_path, CONFIG, &mrec), RF_OK);
    rf_aqlm_free(&q);
    const char *shards[2] = {mat_path, vit_path}, *names[2] = {mrec.name, NAME};
    const rf_record_kind kinds[2] = {RF_RECORD_MATRIX, RF_RECORD_VIT};
    in_dir(ckpt, state, "checkpoint.h5");
    if (rf_checkpoint_assemble(ckpt, CONFIG, "{}", 2, shards, names, kinds) != RF_OK)
        fail_msg("%s", rf_last_error());
    char **list;
    int n;
    assert_int_equal(rf_checkpoint_list(ckpt, &list, &n), RF_OK);
    assert_int_equal(n, 1);
    rf_checkpoint_free_names(list, n);
    assert_int_equal(rf_vit_list(ckpt, &list, &n), RF_OK);
    assert_int_equal(n, 1);
    rf_checkpoint_free_names(list, n);
    rf_vit_info info;
    float *w = NULL;
    assert_int_equal(rf_vit_read(ckpt, NAME, &info, &w), RF_OK);
    assert_memory_equal(w, f.weight, sizeof f.weight);
    free(w);
    assert_int_equal(rf_vit_list(mat_path, &list, &n), RF_OK); /* no /vit: no names */
    assert_int_equal(n, 0);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_roundtrip), T(test_refusals),
                                       T(test_assemble_with_matrices)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
