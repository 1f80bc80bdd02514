/* test_sweep_grid.c -- the sweep grid (shards/sweep_grid.h): expansion order and names, the run
 * flags of a configuration, overrides per matrix, and every refusal naming the flag, the setting
 * or the configuration and matrix at fault, on a real safetensors model. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"
#include "task_fixtures.h"

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "shards/sweep_grid.h"

static const tensor_spec TENSORS[] = {
    {"model.layers.0.self_attn.q_proj.weight", 32, 64},
    {"model.layers.0.self_attn.k_proj.weight", 16, 64},
    {"model.layers.0.mlp.down_proj.weight", 32, 40},
    {"model.layers.0.input_layernorm.weight", 64, 0},
};
#define NT (int)(sizeof TENSORS / sizeof TENSORS[0])

/* rf_sweep_parse fails and its line holds each of the (NULL-ended) parts. */
static void expect_refusal(const char *grid, const char *overrides, ...) {
    rf_sweep s;
    rf_aqlm_config base = rf_aqlm_config_default();
    assert_int_equal(rf_sweep_parse(grid, overrides, &base, &s), RF_ERR);
    assert_int_equal(s.n, 0); /* nothing left allocated */
    va_list ap;
    va_start(ap, overrides);
    for (const char *part; (part = va_arg(ap, const char *)) != NULL;)
        if (!strstr(rf_last_error(), part)) fail_msg("'%s' lacks '%s'", rf_last_error(), part);
    va_end(ap);
}

static void test_expands_in_order_with_names(void **state) {
    rf_sweep s;
    rf_aqlm_config base = rf_aqlm_config_default();
    base.max_epochs = 7;
    assert_int_equal(rf_sweep_parse("num_codebooks=1,2  nbits-per-codebook=8,16 in_group_size=8,16",
                                    NULL, &base, &s), RF_OK);
    assert_int_equal(s.n, 8);
    const char *names[8] = {"1x8-g8", "1x8-g16", "1x16-g8", "1x16-g16",
                            "2x8-g8", "2x8-g16", "2x16-g8", "2x16-g16"};
    for (int i = 0; i < 8; i++) {
        assert_string_equal(s.configs[i].name, names[i]);
        assert_int_equal(s.configs[i].cfg.max_epochs, 7); /* the base stays */
    }
    assert_int_equal(s.configs[5].cfg.num_codebooks, 2);
    assert_int_equal(s.configs[5].cfg.nbits_per_codebook, 8);
    assert_int_equal(s.configs[5].cfg.in_group_size, 16);
    char flags[256];
    rf_sweep_flags(&s, 5, flags, sizeof flags);
    assert_string_equal(flags, "--num_codebooks 2 --nbits_per_codebook 8 --in_group_size 16");
    rf_sweep_free(&s);
}

static void test_other_settings_tag_the_name(void **state) {
    rf_sweep s;
    rf_aqlm_config base = rf_aqlm_config_default();
    assert_int_equal(rf_sweep_parse("lr=0.001,1e-4 max_epochs=5", NULL, &base, &s), RF_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.configs[0].name, "1x16-g8-ep5-lr0.001");
    assert_string_equal(s.configs[1].name, "1x16-g8-ep5-lr0.0001");
    assert_true(s.configs[1].cfg.lr == 1e-4);
    char flags[256];
    rf_sweep_flags(&s, 1, flags, sizeof flags);
    assert_string_equal(flags, "--max_epochs 5 --lr 0.0001");
    rf_sweep_free(&s);
}

static void test_varying_settings(void **state) {
    rf_aqlm_config c[3] = {rf_aqlm_config_default(), rf_aqlm_config_default(),
                           rf_aqlm_config_default()};
    assert_int_equal(rf_sweep_varying(c, 3), 0);
    c[2].beam_size = 4;
    c[1].nbits_per_codebook = 8;
    const unsigned v = rf_sweep_varying(c, 3);
    assert_int_equal(v, (1u << 1) | (1u << 4)); /* nbits_per_codebook, beam_size */
    char name[RF_SWEEP_NAME_LEN];
    rf_sweep_name(&c[2], v, name, sizeof name);
    assert_string_equal(name, "1x16-g8-beam4");
    assert_string_equal(rf_sweep_setting_name(4), "beam_size");
    assert_null(rf_sweep_setting_name(RF_SWEEP_NUM_SETTINGS));
}

static void test_overrides_apply_per_matrix(void **state) {
    rf_sweep s;
    rf_aqlm_config base = rf_aqlm_config_default();
    assert_int_equal(rf_sweep_parse("nbits_per_codebook=8,16",
                                    "k_proj|v_proj:nbits_per_codebook=14,num_codebooks=2;"
                                    "layers\\.0\\.self_attn\\.k:num_codebooks=3",
                                    &base, &s), RF_OK);
    assert_int_equal(s.noverrides, 2);
    rf_aqlm_config c;
    rf_sweep_matrix_config(&s, 0, "model.layers.0.self_attn.k_proj", &c);
    assert_int_equal(c.nbits_per_codebook, 14);
    assert_int_equal(c.num_codebooks, 3); /* the later override wins */
    rf_sweep_matrix_config(&s, 1, "model.layers.1.self_attn.v_proj", &c);
    assert_int_equal(c.nbits_per_codebook, 14);
    assert_int_equal(c.num_codebooks, 2);
    rf_sweep_matrix_config(&s, 1, "model.layers.1.self_attn.q_proj", &c);
    assert_int_equal(c.nbits_per_codebook, 16); /* no override: the configuration's own */
    assert_int_equal(c.num_codebooks, 1);
    rf_sweep_free(&s);
}

static void test_refusals_name_flag_and_setting(void **state) {
    expect_refusal("", NULL, "--grid: no settings", NULL);
    expect_refusal("num_codebooks", NULL, "--grid", "'num_codebooks' is not setting=value", NULL);
    expect_refusal("epochs=1,2", NULL, "--grid: unknown setting 'epochs'", "max_epochs", NULL);
    expect_refusal("num_codebooks=1 num_codebooks=2", NULL, "num_codebooks is listed twice", NULL);
    expect_refusal("num_codebooks=1,2,1", NULL, "num_codebooks lists 1 twice", NULL);
    expect_refusal("num_codebooks=1,x", NULL, "num_codebooks=x is not a number", NULL);
    expect_refusal("in_group_size=8,", NULL, "in_group_size needs a value", NULL);
    expect_refusal("nbits_per_codebook=8.5", NULL, "nbits_per_codebook=8.5 is not an integer", NULL);
    expect_refusal("num_codebooks=1,2,3,4,5,6,7,8,9,10 nbits_per_codebook=1,2,3,4,5,6,7,8,9,10 "
                   "in_group_size=1,2,3,4,5,6,7,8,9,10,11", NULL, "more than 1000 configurations",
                   NULL);
    expect_refusal("num_codebooks=1", "k_proj", "--override", "not REGEX:setting=value", NULL);
    expect_refusal("num_codebooks=1", "k_proj:bits=4", "--override: unknown setting 'bits'", NULL);
    expect_refusal("num_codebooks=1", "k_proj:nbits_per_codebook=4,nbits_per_codebook=5",
                   "--override k_proj: nbits_per_codebook is set twice", NULL);
    expect_refusal("num_codebooks=1", "(k_proj:num_codebooks=2", "--override: '(k_proj'",
                   "not a valid regular expression", NULL);
    expect_refusal("num_codebooks=1", "q_proj:lr=0.1;k_proj:lr=fast", "lr=fast is not a number",
                   NULL);
}

/* Each refusal against the model names the configuration and the matrix. */
static void test_model_check_names_configuration_and_matrix(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    rf_aqlm_config base = tiny_config();
    rf_sweep s;

    assert_int_equal(rf_sweep_parse("in_group_size=4,8", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_OK);
    rf_sweep_free(&s);

    /* 16 divides 64 but not down_proj's 40 */
    assert_int_equal(rf_sweep_parse("in_group_size=8,16", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_ERR);
    assert_string_equal(rf_last_error(), "configuration 1x2-g16: model.layers.0.mlp.down_proj "
                                         "[32, 40]: in_group_size 16 does not divide in_features 40");
    assert_int_equal(rf_sweep_check_model(&s, &m, "self_attn"), RF_OK); /* --only leaves it out */
    rf_sweep_free(&s);

    assert_int_equal(rf_sweep_parse("nbits_per_codebook=2,17", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "configuration 1x17-g4: "));
    assert_non_null(strstr(rf_last_error(), "nbits_per_codebook 17: must be between 1 and 16"));
    rf_sweep_free(&s);

    /* the override makes k_proj's configuration invalid in every configuration */
    assert_int_equal(rf_sweep_parse("num_codebooks=1,2", "k_proj:in_group_size=48", &base, &s),
                     RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_ERR);
    assert_string_equal(rf_last_error(), "configuration 1x2-g4: model.layers.0.self_attn.k_proj "
                                         "[16, 64]: in_group_size 48 does not divide in_features 64");
    rf_sweep_free(&s);

    /* ... and an override can make a matrix fit: 10 does not divide 64, but only down_proj has it */
    assert_int_equal(rf_sweep_parse("num_codebooks=1", "down_proj:in_group_size=10", &base, &s),
                     RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_OK);
    rf_sweep_free(&s);

    assert_int_equal(rf_sweep_parse("num_codebooks=1", "o_proj:nbits_per_codebook=1", &base, &s),
                     RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, NULL), RF_ERR);
    assert_string_equal(rf_last_error(), "--override o_proj matches no matrix of the run");
    rf_sweep_free(&s);

    assert_int_equal(rf_sweep_parse("num_codebooks=1", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_check_model(&s, &m, "gate_proj"), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "--only 'gate_proj' matches no matrix"));
    rf_sweep_free(&s);
    rf_st_close(&m);
}

/* A configuration's tasks: the matrices and seeds of a plain run, each AQLM task with its own
 * configuration (the override's where it matches) and its cost under that configuration. */
static void test_tasks_carry_their_configuration(void **state) {
    rf_st_model m;
    open_model(state, "model.safetensors", TENSORS, NT, &m);
    rf_aqlm_config base = tiny_config();
    rf_sweep s;
    assert_int_equal(rf_sweep_parse("num_codebooks=1,2", "down_proj:in_group_size=8", &base, &s),
                     RF_OK);
    rf_task_list plain, list;
    rf_aqlm_config *cfgs;
    assert_int_equal(rf_sweep_tasks_build(&s, 1, &m, NULL, NULL, 9, &list, &cfgs), RF_OK);
    assert_int_equal(list.n, 3);
    for (int t = 0; t < list.n; t++) {
        const rf_task *task = &list.tasks[t];
        const int down = strstr(task->name, "down_proj") != NULL;
        assert_int_equal(cfgs[t].num_codebooks, 2);
        assert_int_equal(cfgs[t].in_group_size, down ? 8 : base.in_group_size);
        assert_true(task->cost == rf_aqlm_predicted_flops(task->out_features, task->in_features,
                                                          &cfgs[t]));
        assert_true(task->seed == rf_task_seed(9, task->name)); /* a plain run's seed */
    }
    free(cfgs);
    rf_tasks_free(&list);
    rf_sweep_free(&s);

    /* without overrides, the same tasks in the same order as a plain run of the configuration */
    assert_int_equal(rf_sweep_parse("in_group_size=4,8", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_tasks_build(&s, 1, &m, "self_attn", NULL, 9, &list, &cfgs), RF_OK);
    assert_int_equal(rf_tasks_build(&m, "self_attn", &s.configs[1].cfg, NULL, 9, &plain), RF_OK);
    assert_int_equal(list.n, plain.n);
    for (int t = 0; t < list.n; t++) {
        assert_string_equal(list.tasks[t].name, plain.tasks[t].name);
        assert_true(list.tasks[t].cost == plain.tasks[t].cost);
        assert_true(list.tasks[t].seed == plain.tasks[t].seed);
        assert_memory_equal(&cfgs[t], &s.configs[1].cfg, sizeof cfgs[t]);
    }
    free(cfgs);
    rf_tasks_free(&list);
    rf_tasks_free(&plain);
    rf_sweep_free(&s);

    /* a configuration that does not fit is refused by name, nothing left allocated */
    assert_int_equal(rf_sweep_parse("in_group_size=4,16", NULL, &base, &s), RF_OK);
    assert_int_equal(rf_sweep_tasks_build(&s, 1, &m, NULL, NULL, 9, &list, &cfgs), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "configuration 1x2-g16: model.layers.0.mlp.down_proj"));
    assert_null(cfgs);
    assert_int_equal(list.n, 0);
    rf_sweep_free(&s);
    rf_st_close(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expands_in_order_with_names),
        cmocka_unit_test(test_other_settings_tag_the_name),
        cmocka_unit_test(test_varying_settings),
        cmocka_unit_test(test_overrides_apply_per_matrix),
        cmocka_unit_test(test_refusals_name_flag_and_setting),
        cmocka_unit_test_setup_teardown(test_model_check_names_configuration_and_matrix, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_tasks_carry_their_configuration, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
