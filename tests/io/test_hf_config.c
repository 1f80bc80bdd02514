/* test_hf_config.c -- config.json: Qwen3 (flat), InternVL (llm_config + vision_config), a
 * text_config wrapper, and the errors, each naming the file: missing file, a FIFO (refused, not
 * waited on), malformed JSON (line and column), a field of the wrong type (named as a dotted
 * path, with its value). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/hf_config.h"


static void write_config(const char *dir, const char *text) {
    char p[4096];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* From Qwen/Qwen3-4B's config.json (abridged). */
static const char qwen3[] = "{\n"
                            "  \"architectures\": [\"Qwen3ForCausalLM\"],\n"
                            "  \"attention_bias\": false,\n"
                            "  \"head_dim\": 128,\n"
                            "  \"hidden_act\": \"silu\",\n"
                            "  \"hidden_size\": 2560,\n"
                            "  \"intermediate_size\": 9728,\n"
                            "  \"max_position_embeddings\": 40960,\n"
                            "  \"model_type\": \"qwen3\",\n"
                            "  \"num_attention_heads\": 32,\n"
                            "  \"num_hidden_layers\": 36,\n"
                            "  \"num_key_value_heads\": 8,\n"
                            "  \"rope_theta\": 1000000,\n"
                            "  \"torch_dtype\": \"bfloat16\",\n"
                            "  \"vocab_size\": 151936\n"
                            "}\n";

static void test_qwen3(void **state) {
    write_config(*state, qwen3);
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_OK);
    assert_string_equal(c.model_type, "qwen3");
    assert_string_equal(c.architecture, "Qwen3ForCausalLM");
    assert_int_equal(c.num_hidden_layers, 36);
    assert_int_equal(c.hidden_size, 2560);
    assert_int_equal(c.intermediate_size, 9728);
    assert_int_equal(c.num_attention_heads, 32);
    assert_int_equal(c.num_key_value_heads, 8);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.vocab_size, 151936);
    assert_int_equal(c.vit_layers, 0);
    assert_int_equal(c.vit_hidden_size, 0);
    assert_int_equal(c.vit_intermediate_size, 0);
}

/* InternVL-style: top-level keys of the wrapper must not leak into the LLM's. */
static void test_internvl(void **state) {
    write_config(
        *state,
        "{\"architectures\": [\"InternVLChatModel\"], \"model_type\": \"internvl_chat\",\n"
        " \"hidden_size\": 1, \"num_hidden_layers\": 1,\n"
        " \"llm_config\": {\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\",\n"
        "   \"hidden_size\": 2048, \"intermediate_size\": 6144, \"num_hidden_layers\": 28,\n"
        "   \"num_attention_heads\": 16, \"num_key_value_heads\": 8, \"head_dim\": 128,\n"
        "   \"vocab_size\": 151674},\n"
        " \"vision_config\": {\"model_type\": \"intern_vit_6b\", \"hidden_size\": 1024,\n"
        "   \"intermediate_size\": 4096, \"num_hidden_layers\": 24, \"num_attention_heads\": "
        "16}}\n");
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_OK);
    assert_string_equal(c.model_type, "internvl_chat");
    assert_string_equal(c.architecture, "InternVLChatModel");
    assert_int_equal(c.num_hidden_layers, 28);
    assert_int_equal(c.hidden_size, 2048);
    assert_int_equal(c.intermediate_size, 6144);
    assert_int_equal(c.num_attention_heads, 16);
    assert_int_equal(c.num_key_value_heads, 8);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.vocab_size, 151674);
    assert_int_equal(c.vit_layers, 24);
    assert_int_equal(c.vit_hidden_size, 1024);
    assert_int_equal(c.vit_intermediate_size, 4096);
}

/* text_config wrapper; missing keys and null values read as 0. */
static void test_text_config_and_missing_keys(void **state) {
    write_config(*state, "{\"model_type\": \"llava\", \"text_config\": {\"hidden_size\": 4096,"
                         " \"num_hidden_layers\": 32, \"head_dim\": null},"
                         " \"vision_config\": {\"hidden_size\": 1152}}");
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_OK);
    assert_string_equal(c.model_type, "llava");
    assert_string_equal(c.architecture, "");
    assert_int_equal(c.hidden_size, 4096);
    assert_int_equal(c.num_hidden_layers, 32);
    assert_int_equal(c.head_dim, 0);
    assert_int_equal(c.intermediate_size, 0);
    assert_int_equal(c.vit_hidden_size, 1152);
    assert_int_equal(c.vit_layers, 0);
}

static void test_missing_file(void **state) {
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    assert_non_null(strstr(rf_last_error(), *state));
    assert_non_null(strstr(rf_last_error(), "config.json"));
    assert_non_null(strstr(rf_last_error(), "No such file"));
}

static void test_malformed(void **state) {
    write_config(*state, "{\n  \"hidden_size\": 2560,\n  \"model_type\": qwen3\n}\n");
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    char want[4200];
    snprintf(want, sizeof want, "%s/config.json: not valid JSON at line 3 column", (char *)*state);
    assert_non_null(strstr(rf_last_error(), want));
}

/* A FIFO in place of config.json: a plain open would wait for a writer forever. */
static void test_fifo(void **state) {
    char p[4200];
    snprintf(p, sizeof p, "%s/config.json", (char *)*state);
    assert_int_equal(mkfifo(p, 0644), 0);
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    assert_non_null(strstr(rf_last_error(), p));
    assert_non_null(strstr(rf_last_error(), "not a regular file (a FIFO)"));
}

/* config.json holding TEXT is refused with an error that names the file and contains what. */
static void expect_field_error(void **state, const char *text, const char *what) {
    write_config(*state, text);
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    if (!strstr(rf_last_error(), "config.json: ") || !strstr(rf_last_error(), what))
        fail_msg("error \"%s\" lacks \"config.json: \" or \"%s\"", rf_last_error(), what);
}

static void test_field_types(void **state) {
    expect_field_error(state, "{\"model_type\": 3}", "model_type is 3, not a string");
    expect_field_error(state, "{\"architectures\": \"Qwen3ForCausalLM\"}",
                       "architectures is \"Qwen3ForCausalLM\", not a list of strings");
    expect_field_error(state, "{\"architectures\": [7]}", "architectures[0] is 7, not a string");
    expect_field_error(state, "{\"llm_config\": \"qwen3\"}", "llm_config is \"qwen3\", not an object");
    expect_field_error(state, "{\"text_config\": [1]}", "text_config is [1], not an object");
    expect_field_error(state, "{\"vision_config\": 1}", "vision_config is 1, not an object");
    expect_field_error(state, "{\"num_hidden_layers\": -2}",
                       "num_hidden_layers is -2, not a non-negative integer");
    expect_field_error(state, "{\"vision_config\": {\"hidden_size\": 1.5}}",
                       "vision_config.hidden_size is 1.5, not a non-negative integer");
    expect_field_error(state, "{\"hidden_size\": 4294967296}",
                       "hidden_size is 4294967296, not a non-negative integer");
    /* a long value is shortened */
    char text[400] = "{\"vocab_size\": \"", *p = text + strlen(text);
    memset(p, 'x', 200);
    strcpy(p + 200, "\"}");
    expect_field_error(state, text, "...");
    assert_true(strlen(rf_last_error()) < strlen(*state) + 150);
}

static void test_wrong_type(void **state) {
    write_config(*state, "{\"llm_config\": {\"hidden_size\": \"2560\"}}");
    rf_hf_config c;
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "llm_config.hidden_size"));
    write_config(*state, "[1]");
    assert_int_equal(rf_hf_config_read(*state, &c), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "not a JSON object"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_qwen3),        T(test_internvl),  T(test_text_config_and_missing_keys),
        T(test_missing_file), T(test_malformed), T(test_wrong_type),
        T(test_fifo),         T(test_field_types),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
