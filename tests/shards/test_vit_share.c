/* test_vit_share.c -- block sharing in the task model (shards/vit_share.h): parsing --vit-share,
 * the VIT tasks it adds for SigLIP and InternViT names (target, shared matrix, seed, shard path,
 * beside the AQLM tasks), --only over both kinds, and errors that name the block or tensor. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "task_fixtures.h"

#include <stdint.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "io/safetensors.h"
#include "shards/tasks.h"

static const tensor_spec SIGLIP[] = {
    {"model.layers.0.self_attn.q_proj.weight", 16, 16},
    {"vision_model.encoder.layers.0.self_attn.q_proj.weight", 8, 8},
    {"vision_model.encoder.layers.0.mlp.fc1.weight", 12, 8},
    {"vision_model.encoder.layers.0.mlp.fc1.bias", 12, 0},
    {"vision_model.encoder.layers.1.self_attn.q_proj.weight", 8, 8},
    {"vision_model.encoder.layers.1.mlp.fc1.weight", 12, 8},
    {"vision_model.encoder.layers.1.mlp.fc1.bias", 12, 0},
    {"vision_model.encoder.layers.2.self_attn.q_proj.weight", 8, 8},
    {"vision_model.encoder.layers.2.mlp.fc1.weight", 10, 8}, /* differs from block 0's */
};

static const tensor_spec INTERNVIT[] = {
    {"language_model.model.layers.0.mlp.down_proj.weight", 16, 32},
    {"vision_model.encoder.layers.0.attn.qkv.weight", 24, 8},
    {"vision_model.encoder.layers.0.attn.proj.weight", 8, 8},
    {"vision_model.encoder.layers.0.norm1.weight", 8, 0},
    {"vision_model.encoder.layers.1.attn.qkv.weight", 24, 8},
    {"vision_model.encoder.layers.1.attn.proj.weight", 8, 8},
    {"vision_model.encoder.layers.1.norm1.weight", 8, 0},
};

static rf_vit_share share(const char *spec, rf_gen_kind kind) {
    rf_vit_share vs = {.gen = rf_gen_config_default(kind)};
    if (rf_vit_share_parse(spec, &vs) != RF_OK) fail_msg("%s", rf_last_error());
    return vs;
}

static const rf_task *find(const rf_task_list *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->tasks[i].name, name)) return &l->tasks[i];
    fail_msg("no task %s", name);
    return NULL;
}

static void test_parse(void **state) {
    rf_vit_share vs;
    assert_int_equal(rf_vit_share_parse("23:24,23:25,3:1", &vs), RF_OK);
    assert_int_equal(vs.npairs, 3);
    assert_true(vs.from[0] == 23 && vs.to[0] == 24 && vs.from[2] == 3 && vs.to[2] == 1);
    char buf[64];
    rf_vit_share_format(&vs, buf, sizeof buf);
    assert_string_equal(buf, "23:24,23:25,3:1");
    const struct { const char *spec, *message; } bad[] = {
        {"23", "expected A:B"},        {"23:x", "expected A:B"},
        {"1:2;3:4", "expected A:B"},   {"-1:2", "expected A:B"},
        {"4:4", "cannot share with itself"},
        {"1:2,3:2", "block 2 is shared twice"},
        {"1:2,2:3", "block 2 is both shared and a source"},
        {"", "no block pair"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(rf_vit_share_parse(bad[i].spec, &vs), RF_ERR);
        if (!strstr(rf_last_error(), bad[i].message) || !strstr(rf_last_error(), "--vit-share"))
            fail_msg("'%s': %s", bad[i].spec, rf_last_error());
    }
}

static void test_siglip_tasks(void **state) {
    rf_st_model m;
    open_model(state, "siglip.safetensors", SIGLIP, 9, &m);
    rf_aqlm_config c = tiny_config();
    rf_vit_share vs = share("0:1", RF_GEN_QGP);
    rf_task_list l;
    if (rf_tasks_build(&m, NULL, &c, &vs, 5, &l) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(l.n, 3); /* the LLM matrix and block 1's two matrices, not its bias */
    const rf_task *t = find(&l, "vision_model.encoder.layers.1.mlp.fc1");
    assert_int_equal(t->kind, RF_TASK_VIT);
    assert_string_equal(t->shared_name, "vision_model.encoder.layers.0.mlp.fc1");
    assert_string_equal(t->shared->name, "vision_model.encoder.layers.0.mlp.fc1.weight");
    assert_string_equal(t->tensor->name, "vision_model.encoder.layers.1.mlp.fc1.weight");
    assert_true(t->out_features == 12 && t->in_features == 8);
    assert_true(t->seed == rf_task_seed(5, t->name));
    assert_true(t->cost == rf_gen_predicted_flops(12, 8, &vs.gen));
    assert_int_equal(find(&l, "model.layers.0.self_attn.q_proj")->kind, RF_TASK_AQLM);
    for (int i = 0; i + 1 < l.n; i++) assert_true(l.tasks[i].cost >= l.tasks[i + 1].cost);
    char path[4096];
    rf_task_shard_path("OUT", t, path, sizeof path);
    assert_string_equal(path, "OUT/shards/vision_model.encoder.layers.1.mlp.fc1.h5");
    rf_tasks_free(&l);

    /* --only selects over both kinds */
    if (rf_tasks_build(&m, "q_proj", &c, &vs, 5, &l) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(l.n, 2);
    rf_tasks_free(&l);
    if (rf_tasks_build(&m, "vision", &c, &vs, 5, &l) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(l.n, 2);
    rf_tasks_free(&l);

    vs = share("0:2", RF_GEN_NONE);
    assert_int_equal(rf_tasks_build(&m, NULL, &c, &vs, 5, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "vision_model.encoder.layers.2.mlp.fc1.weight and "
                                            "vision_model.encoder.layers.0.mlp.fc1.weight differ in shape"));
    vs = share("0:7", RF_GEN_NONE);
    assert_int_equal(rf_tasks_build(&m, NULL, &c, &vs, 5, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--vit-share 0:7: the vision tower has no block 7 (blocks 0..2)"));
    vs = share("9:1", RF_GEN_NONE);
    assert_int_equal(rf_tasks_build(&m, NULL, &c, &vs, 5, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "no vision_model.encoder.layers.9."));
    rf_st_close(&m);
}

static void test_internvit_tasks(void **state) {
    rf_st_model m;
    open_model(state, "internvit.safetensors", INTERNVIT, 7, &m);
    rf_aqlm_config c = tiny_config();
    rf_vit_share vs = share("0:1", RF_GEN_PARAMGEN);
    rf_task_list l;
    if (rf_tasks_build(&m, NULL, &c, &vs, 0, &l) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(l.n, 3);
    const rf_task *t = find(&l, "vision_model.encoder.layers.1.attn.qkv");
    assert_string_equal(t->shared_name, "vision_model.encoder.layers.0.attn.qkv");
    assert_true(t->out_features == 24 && t->in_features == 8);
    assert_string_equal(find(&l, "vision_model.encoder.layers.1.attn.proj")->shared_name,
                        "vision_model.encoder.layers.0.attn.proj");
    rf_tasks_free(&l);
    rf_st_close(&m);
}

static void test_no_vision_tower(void **state) {
    rf_st_model m;
    open_model(state, "llm.safetensors", SIGLIP, 1, &m);
    rf_aqlm_config c = tiny_config();
    rf_vit_share vs = share("0:1", RF_GEN_QGP);
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, &vs, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--vit-share: the model has no vision-tower matrices"));
    rf_st_close(&m);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_parse), T(test_siglip_tasks),
                                       T(test_internvit_tasks), T(test_no_vision_tower)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
