/* test_tasks.c -- the task model (shards/tasks.h): which tensors become tasks (Qwen3 names and
 * InternVL's language_model. prefix; norms, embeddings and vision tensors do not), the cost
 * order, --only, per-task seeds that depend on the name alone, and errors naming the tensor. */
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
    assert_true(rf_tasks_predict_ranks(&l, 2, cost) == 11);
    assert_true(cost[0] == 11 && cost[1] == 9);
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

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {T(test_selects_llm_linears_in_cost_order),
                                       T(test_only_and_its_errors), T(test_predicted_ranks),
                                       T(test_layers_against_config)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
