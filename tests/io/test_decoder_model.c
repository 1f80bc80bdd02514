/* test_decoder_model.c -- a decoder model read for the forward pass (io/decoder_model.h): a tiny
 * Llama-shaped model written here (config.json + model.safetensors, F32) opens with the config's
 * math (transformers 5's rope_parameters, 4.x's rope_theta + rope_scaling), a tied head when
 * lm_head.weight is absent, biases found by their tensors, a layer loaded as float32 with the
 * file's values; and the refusals name their field or tensor: model_type, rope_type, sliding
 * window layers, a missing tensor, a wrong shape, q_norm on a Llama. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/decoder_model.h"

enum { H = 8, F = 12, V = 10, HD = 4 }; /* 2 heads, 1 kv head */

static void write_text(void **state, const char *name, const char *text) {
    char p[4096];
    FILE *f = fopen(in_dir(p, state, name), "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* One layer; extra names one more tensor [HD] (NULL: none); skip leaves one out. */
static void write_model(void **state, const char *extra, const char *skip, int64_t q_rows) {
    static float data[F * H];
    for (int i = 0; i < F * H; i++) data[i] = 0.01f * (float)i;
    struct { const char *name; int64_t r, c; } t[] = {
        {"model.embed_tokens.weight", V, H}, {"model.norm.weight", H, 0},
        {"model.layers.0.input_layernorm.weight", H, 0},
        {"model.layers.0.post_attention_layernorm.weight", H, 0},
        {"model.layers.0.self_attn.q_proj.weight", q_rows, H},
        {"model.layers.0.self_attn.k_proj.weight", HD, H},
        {"model.layers.0.self_attn.v_proj.weight", HD, H},
        {"model.layers.0.self_attn.v_proj.bias", HD, 0},
        {"model.layers.0.self_attn.o_proj.weight", H, 2 * HD},
        {"model.layers.0.mlp.gate_proj.weight", F, H}, {"model.layers.0.mlp.up_proj.weight", F, H},
        {"model.layers.0.mlp.down_proj.weight", H, F}, {extra, HD, 0}};
    rf_st_entry e[13];
    int n = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!t[i].name || (skip && !strcmp(t[i].name, skip))) continue;
        e[n++] = (rf_st_entry){.name = t[i].name, .dtype = RF_DTYPE_F32, .ndim = t[i].c ? 2 : 1,
                               .shape = {t[i].r, t[i].c}, .data = data};
    }
    char p[4096];
    assert_int_equal(rf_st_write(in_dir(p, state, "model.safetensors"), e, n), RF_OK);
}

static void write_config(void **state, const char *type, const char *extra) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"model_type\": \"%s\", \"hidden_size\": 8, \"intermediate_size\": 12, "
             "\"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"num_hidden_layers\": 1, "
             "\"vocab_size\": 10, \"hidden_act\": \"silu\"%s}", type, extra);
    write_text(state, "config.json", text);
}

static void expect_refusal(void **state, const char *msg) {
    rf_dec_model m;
    assert_int_equal(rf_dec_model_open(&m, *state, NULL), RF_ERR);
    if (!strstr(rf_last_error(), msg)) fail_msg("'%s' lacks '%s'", rf_last_error(), msg);
}

static void test_opens(void **state) {
    write_model(state, NULL, NULL, 2 * HD);
    write_config(state, "llama",
                 ", \"rms_norm_eps\": 1e-5, \"rope_parameters\": {\"rope_theta\": 500000.0, "
                 "\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                 "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}");
    rf_dec_model m;
    assert_int_equal(rf_dec_model_open(&m, *state, NULL), RF_OK);
    assert_int_equal(m.cfg.head_dim, HD);
    assert_true(m.cfg.rope_theta == 500000.0 && m.cfg.rms_eps == 1e-5);
    assert_int_equal(m.cfg.rope_kind, RF_ROPE_LLAMA3);
    assert_true(m.cfg.rope_factor == 8 && m.cfg.rope_high_freq == 4 && m.cfg.rope_orig_ctx == 64);
    assert_true(m.tied); /* no lm_head.weight, no tie_word_embeddings */
    assert_false(m.qk_norm);
    rf_dec_model_layer l;
    assert_int_equal(rf_dec_model_layer_load(&m, 0, &l), RF_OK);
    assert_null(l.w.bq);
    assert_non_null(l.w.bv);
    assert_true(l.w.wd[5] == 0.01f * 5.0f && l.w.bv[3] == 0.01f * 3.0f);
    rf_dec_model_layer_free(&l);
    rf_dec_model_close(&m);

    write_config(state, "llama", ", \"rope_theta\": 1000.0, \"rope_scaling\": {\"type\": "
                                 "\"linear\", \"factor\": 2.0}");
    assert_int_equal(rf_dec_model_open(&m, *state, NULL), RF_OK);
    assert_true(m.cfg.rope_theta == 1000.0 && m.cfg.rope_kind == RF_ROPE_LINEAR);
    rf_dec_model_close(&m);
}

static void test_refusals(void **state) {
    write_model(state, NULL, NULL, 2 * HD);
    write_config(state, "mistral", "");
    expect_refusal(state, "model_type 'mistral' is not a decoder riverforge runs");
    write_config(state, "llama", ", \"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4}");
    expect_refusal(state, "rope_parameters.rope_type 'yarn' is not supported");
    write_config(state, "qwen2", ", \"layer_types\": [\"sliding_attention\"]");
    expect_refusal(state, "layer_types entry other than full_attention");
    write_config(state, "llama", ", \"tie_word_embeddings\": false");
    expect_refusal(state, "no tensor lm_head.weight and tie_word_embeddings is false");
    write_config(state, "qwen3", "");
    expect_refusal(state, "no tensor model.layers.0.self_attn.q_norm.weight");
    write_config(state, "llama", "");
    write_model(state, "model.layers.0.self_attn.q_norm.weight", NULL, 2 * HD);
    expect_refusal(state, "model.layers.0.self_attn.q_norm.weight belongs to no llama model");
    write_model(state, NULL, "model.layers.0.mlp.up_proj.weight", 2 * HD);
    expect_refusal(state, "no tensor model.layers.0.mlp.up_proj.weight");
    write_model(state, NULL, NULL, 3);
    expect_refusal(state, "model.layers.0.self_attn.q_proj.weight has shape [3, 8], config.json "
                          "says [8, 8]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_opens, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_refusals, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
