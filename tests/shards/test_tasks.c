/* test_tasks.c -- the task model (shards/tasks.h): which tensors become tasks (Qwen3 names and
 * InternVL's language_model. prefix; norms, embeddings and vision tensors do not), the cost
 * order, --only, per-task seeds that depend on the name alone, errors naming the tensor, names
 * that cannot be shard files, integer weights, and the predicted memory of a task against a
 * node's. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "task_fixtures.h"

#include <stdint.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "io/safetensors.h"
#include "shards/tasks.h"

static const tensor_spec TENSORS[] = {
    {"language_model.model.layers.0.self_attn.q_proj.weight", 32, 16},
    {"language_model.model.layers.0.mlp.down_proj.weight", 16, 64},
    {"language_model.model.layers.1.mlp.gate_proj.weight", 64, 16},
    {"model.layers.3.self_attn.k_proj.weight", 8, 16},
    {"language_model.model.layers.0.input_layernorm.weight", 16, 0},
    {"language_model.model.embed_tokens.weight", 40, 16},
    {"vision_model.encoder.layers.0.self_attn.q_proj.weight", 16, 16},
    {"language_model.model.layers.0.self_attn.q_proj.bias", 32, 0},
};
#define NT (int)(sizeof TENSORS / sizeof TENSORS[0])

static void test_selects_llm_linears_in_cost_order(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    rf_aqlm_config c = tiny_config();
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 7, &l), RF_OK);
    assert_int_equal(l.n, 4); /* not the norm, the embedding, the vision matrix or the bias */
    for (int i = 0; i + 1 < l.n; i++) assert_true(l.tasks[i].cost >= l.tasks[i + 1].cost);
    /* the largest work: [16, 64] has in = 64 (the Adam product is out*in*in) */
    assert_string_equal(l.tasks[0].name, "language_model.model.layers.0.mlp.down_proj");
    assert_string_equal(l.tasks[l.n - 1].name, "model.layers.3.self_attn.k_proj");
    for (int i = 0; i < l.n; i++) {
        assert_true(l.tasks[i].seed == rf_task_seed(7, l.tasks[i].name));
        assert_int_equal(l.tasks[i].out_features, l.tasks[i].tensor->shape[0]);
    }
    char path[4096];
    rf_task_shard_path("OUT", &l.tasks[0], path, sizeof path);
    assert_string_equal(path, "OUT/shards/language_model.model.layers.0.mlp.down_proj.h5");
    rf_tasks_free(&l);
    rf_st_close(&m);
}

static void test_only_and_its_errors(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    rf_aqlm_config c = tiny_config();
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, "q_proj|k_proj", &c, NULL, 0, &l), RF_OK);
    assert_int_equal(l.n, 2);
    rf_tasks_free(&l);
    assert_int_equal(rf_tasks_build(&m, "up_proj", &c, NULL, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--only 'up_proj' matches no matrix of the run"));
    assert_int_equal(rf_tasks_build(&m, "(", &c, NULL, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--only '(' is not a valid regular expression"));
    c.in_group_size = 32; /* divides 64 but not 16 */
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "[32, 16]: in_group_size 32"));
    assert_string_equal(rf_error_field(), "aqlm.in_group_size");
    rf_st_close(&m);
}

static void test_predicted_ranks(void **state) {
    rf_task_list l = {.n = 4, .tasks = (rf_task[4]){{.cost = 8}, {.cost = 5}, {.cost = 4}, {.cost = 3}}};
    double cost[2];
    /* rank 0 takes 8; rank 1 takes 5, then 4 (free first at 5), rank 0 then 3 (free at 8 < 9) */
    assert_true(rf_tasks_predict_ranks(&l, NULL, 2, cost) == 11);
    assert_true(cost[0] == 11 && cost[1] == 9);
    /* durations in the tasks' order (seconds at measured rates): rank 0 takes 1, rank 1 takes 6,
     * rank 0 then 2 (free at 1) and 1 (free at 3) */
    const double seconds[4] = {1, 6, 2, 1};
    assert_true(rf_tasks_predict_ranks(&l, seconds, 2, cost) == 6);
    assert_true(cost[0] == 4 && cost[1] == 6);
}

/* config.json's num_hidden_layers against the layers the tensors hold (0..3 here: 4). */
static void test_layers_against_config(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    rf_hf_config hf = {0};
    assert_int_equal(rf_tasks_check_layers(&m, &hf, "c.json"), RF_OK); /* not set: no check */
    hf.num_hidden_layers = 4;
    assert_int_equal(rf_tasks_check_layers(&m, &hf, "c.json"), RF_OK);
    hf.num_hidden_layers = 36;
    assert_int_equal(rf_tasks_check_layers(&m, &hf, "c.json"), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "c.json says num_hidden_layers 36, but the model's "
                                            "tensors hold linear matrices of 4 decoder layers"));
    rf_st_close(&m);
}

/* Names become OUT/shards/NAME.h5 (written as NAME.h5.tmp): nothing that leaves the folder. */
static void test_names_that_cannot_be_files(void **state) {
    (void)state;
    assert_int_equal(rf_task_name_check("model.layers.0.mlp.up_proj"), RF_OK);
    const char *bad[] = {"a/b", ".hidden", "a..b", "tab\there", "caf\xc3\xa9"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rf_task_name_check(bad[i]), RF_ERR);
        assert_non_null(strstr(rf_last_error(), "tensor "));
    }
    char name[300];
    memset(name, 'x', sizeof name);
    name[248] = '\0'; /* 248 + ".h5.tmp" = NAME_MAX */
    assert_int_equal(rf_task_name_check(name), RF_OK);
    name[248] = 'x';
    name[249] = '\0';
    assert_int_equal(rf_task_name_check(name), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "the name has 249 characters; a shard file name allows 248"));
}

/* The task list refuses such names before any work: a vision matrix named outside OUT/shards,
 * and a decoder matrix whose name is too long for a file. */
static void test_build_refuses_bad_names(void **state) {
    static const tensor_spec vision[] = {
        {"model.layers.0.mlp.up_proj.weight", 16, 16},
        {"../../../x/encoder.layers.0.mlp.fc1.weight", 16, 16},
        {"../../../x/encoder.layers.1.mlp.fc1.weight", 16, 16},
    };
    rf_st_model m;
    open_model(state, "vision.safetensors", vision, 3, &m);
    rf_aqlm_config c = tiny_config();
    rf_vit_share vs = {.gen = rf_gen_config_default(RF_GEN_NONE)};
    assert_int_equal(rf_vit_share_parse("0:1", &vs), RF_OK);
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, &vs, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "tensor ../../../x/encoder.layers.1.mlp.fc1: "));
    rf_st_close(&m);

    char longname[300]; /* model.layers.000...0.mlp.up_proj: 250 characters without ".weight" */
    const char *tail = ".mlp.up_proj";
    const int zeros = 250 - (int)strlen("model.layers.") - (int)strlen(tail);
    snprintf(longname, sizeof longname, "model.layers.%0*d%s.weight", zeros, 0, tail);
    const tensor_spec deep[] = {{longname, 16, 16}};
    open_model(state, "long.safetensors", deep, 1, &m);
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "the name has 250 characters"));
    rf_st_close(&m);
}

/* An integer weight is refused when the task list is built, naming the tensor and its dtype. */
static void test_build_refuses_integer_weights(void **state) {
    static int8_t codes[16 * 16];
    rf_st_entry e = {.name = "model.layers.0.mlp.up_proj.weight", .dtype = RF_DTYPE_I8, .ndim = 2,
                     .shape = {16, 16}, .data = codes};
    char path[4096];
    assert_int_equal(rf_st_write(in_dir(path, state, "int8.safetensors"), &e, 1), RF_OK);
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, path), RF_OK);
    rf_aqlm_config c = tiny_config();
    rf_task_list l;
    assert_int_equal(rf_tasks_build(&m, NULL, &c, NULL, 0, &l), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "tensor model.layers.0.mlp.up_proj.weight is I8"));
    rf_st_close(&m);
}

/* An AQLM task's memory: W and XTX in float32 and more; 4 TB for [8, 1048576] with its XTX. */
static void test_aqlm_task_memory(void **state) {
    (void)state;
    rf_aqlm_config c = rf_aqlm_config_default(); /* 1x16, g8 */
    const double in = 4096, out = 4096, S = out * in;
    const double with = rf_aqlm_task_bytes(4096, 4096, &c, 1), without = rf_aqlm_task_bytes(4096, 4096, &c, 0);
    assert_true(without > 4 * S + 16 * S); /* W, and the float64 [dW; W] of the errors */
    assert_true(with - without >= 4 * in * in);
    assert_true(rf_aqlm_task_bytes(4096, 8192, &c, 1) > with); /* grows with the shape */
    c.beam_size = 4; /* E [out, in] per hypothesis: the beam pass is then the peak */
    const double beam4 = rf_aqlm_task_bytes(4096, 4096, &c, 1);
    c.beam_size = 8;
    assert_true(rf_aqlm_task_bytes(4096, 4096, &c, 1) >= beam4 + 4 * 4 * S);
    c = rf_aqlm_config_default();
    assert_true(rf_aqlm_task_bytes(8, 1048576, &c, 1) > 4.0 * 1048576.0 * 1048576.0);

    rf_task huge = {.kind = RF_TASK_AQLM, .name = "model.layers.0.mlp.down_proj",
                    .out_features = 8, .in_features = 1048576};
    rf_task_list l = {.n = 1, .tasks = &huge};
    const rf_gen_config g = rf_gen_config_default(RF_GEN_NONE);
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 0, 1, 1e9), RF_OK); /* no XTX: 300 MB */
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 1, 1, 1e12), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "model.layers.0.mlp.down_proj [8, 1048576]: AQLM needs about "));
    assert_non_null(strstr(rf_last_error(), " bytes ("));
    /* ranks on a node share its memory */
    const double one = rf_task_predicted_bytes(&huge, &c, &g, 0);
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 0, 3, 3 * one), RF_OK);
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 0, 4, 3 * one), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "4 ranks on this node"));
}

/* VIT tasks are checked by the same rule, with their generator's prediction. */
static void test_vit_task_memory(void **state) {
    (void)state;
    const rf_aqlm_config c = rf_aqlm_config_default();
    const rf_gen_config g = rf_gen_config_default(RF_GEN_QGP);
    rf_task vit = {.kind = RF_TASK_VIT, .name = "vision_model.encoder.layers.1.mlp.fc1",
                   .out_features = 4096, .in_features = 1024};
    rf_task_list l = {.n = 1, .tasks = &vit};
    const double need = rf_task_predicted_bytes(&vit, &c, &g, 1);
    assert_true(need == rf_gen_predicted_bytes(4096, 1024, &g));
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 1, 2, 2 * need), RF_OK);
    assert_int_equal(rf_tasks_check_memory(&l, &c, &g, 1, 2, 2 * need - 1), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "vision_model.encoder.layers.1.mlp.fc1 [4096, 1024]: qgp needs about "));
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_selects_llm_linears_in_cost_order),
                                       T(test_only_and_its_errors), T(test_predicted_ranks),
                                       T(test_layers_against_config),
                                       T(test_names_that_cannot_be_files),
                                       T(test_build_refuses_bad_names),
                                       T(test_build_refuses_integer_weights),
                                       T(test_aqlm_task_memory),
                                       T(test_vit_task_memory)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
