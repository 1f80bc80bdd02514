/* test_synth.c -- the synthetic model generator (synth/synth.h): rf_synth_check's refusals name
 * the field; the preset, the embedded spec and how many files they write; a small model written
 * and read back (tensor names in both vision naming styles, shapes, BF16, the index when
 * sharded), config.json, xtx.h5 (every /xtx/NAME symmetric with a positive diagonal, one dataset
 * for q/k/v and one for gate/up), and determinism (one seed, the same files). */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <hdf5.h>
#include <jansson.h>
#include <stdint.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"
#include "synth/synth.h"

/* A model of seconds: 2 layers of hidden 32, a 2-block vision tower of hidden 16. */
static rf_synth_spec small_spec(void) {
    return (rf_synth_spec){.layers = 2, .hidden = 32, .intermediate = 64, .heads = 4, .kv_heads = 2,
                           .head_dim = 8, .vocab = 16, .vit_blocks = 2, .vit_hidden = 16,
                           .vit_mlp = 32, .shards = 1, .calib_tokens = 64, .seed = 3};
}

static void expect_refusal(const rf_synth_spec *s, const char *text) {
    assert_int_equal(rf_synth_check(s), RF_ERR);
    if (!strstr(rf_last_error(), text)) fail_msg("'%s' does not hold '%s'", rf_last_error(), text);
}

static void test_check_refusals(void **state) {
    rf_synth_spec s = small_spec();
    assert_int_equal(rf_synth_check(&s), RF_OK);
    s.heads = 0;
    expect_refusal(&s, "--heads must be positive");
    s = small_spec();
    s.calib_tokens = -1;
    expect_refusal(&s, "--calib-tokens must be positive");
    s = small_spec();
    s.heads = 6;
    s.kv_heads = 4;
    expect_refusal(&s, "--heads 6 is not a multiple of --kv-heads 4");
    s = small_spec();
    s.shards = 3;
    expect_refusal(&s, "--shards 3 is more than --layers 2");
    s.shards = -1;
    expect_refusal(&s, "--shards -1: must be positive");
    s = small_spec();
    s.vit_mlp = 0;
    expect_refusal(&s, "--vit-blocks 2 needs a positive --vit-hidden and --vit-mlp");
    s.vit_blocks = -1;
    expect_refusal(&s, "--vit-blocks -1");
    s = rf_synth_preset_qwen3_4b();
    s.layers = 100000; /* xtx.h5 is built in memory: 100 TB */
    expect_refusal(&s, "use --layers");
}

static void test_preset_and_embedded(void **state) {
    rf_synth_spec p = rf_synth_preset_qwen3_4b();
    assert_true(p.layers == 36 && p.hidden == 2560 && p.intermediate == 9728);
    assert_true(p.heads == 32 && p.kv_heads == 8 && p.head_dim == 128 && p.vocab == 151936);
    assert_int_equal(p.vit_blocks, 0);
    /* Qwen3-4B's 3 files; fewer layers, fewer files, unless shards is given */
    assert_int_equal(rf_synth_files(&p), 3);
    p.layers = 2;
    assert_int_equal(rf_synth_files(&p), 1);
    assert_int_equal(rf_synth_check(&p), RF_OK);
    p.layers = 13;
    assert_int_equal(rf_synth_files(&p), 2);
    p.shards = 5;
    assert_int_equal(rf_synth_files(&p), 5);

    rf_synth_spec d = rf_synth_default(), e = rf_synth_embedded();
    assert_int_equal(d.vit_blocks, 0);
    assert_int_equal(rf_synth_files(&d), 1);
    assert_true(e.layers == d.layers && e.hidden == d.hidden && e.intermediate == d.intermediate);
    assert_true(e.vit_blocks == 4 && e.vit_hidden == 64 && e.vit_mlp == 256);
    assert_int_equal(e.vit_style, RF_VIT_SIGLIP);
    assert_int_equal(rf_synth_check(&d), RF_OK);
    assert_int_equal(rf_synth_check(&e), RF_OK);
}

static void write_model(void **state, const char *name, const rf_synth_spec *s, char *dir) {
    in_dir(dir, state, name);
    if (rf_synth_write(dir, s) != RF_OK) fail_msg("%s", rf_last_error());
}

/* The BF16 tensor NAME of the model has shape [rows] (cols 0) or [rows, cols]. */
static void expect_tensor(const rf_st_model *m, const char *name, int64_t rows, int64_t cols) {
    const rf_st_tensor *t = rf_st_find(m, name);
    if (!t) fail_msg("no tensor %s", name);
    assert_int_equal(t->dtype, RF_DTYPE_BF16);
    assert_int_equal(t->ndim, cols ? 2 : 1);
    assert_int_equal(t->shape[0], rows);
    if (cols) assert_int_equal(t->shape[1], cols);
}

/* The language model's tensors of small_spec: layer L's eleven, the embedding, the final norm. */
static void expect_language_model(const rf_st_model *m) {
    char name[160];
    for (int l = 0; l < 2; l++) {
        const struct { const char *suffix; int64_t rows, cols; } t[11] = {
            {"self_attn.q_proj.weight", 32, 32}, {"self_attn.k_proj.weight", 16, 32},
            {"self_attn.v_proj.weight", 16, 32}, {"self_attn.o_proj.weight", 32, 32},
            {"mlp.gate_proj.weight", 64, 32},    {"mlp.up_proj.weight", 64, 32},
            {"mlp.down_proj.weight", 32, 64},    {"input_layernorm.weight", 32, 0},
            {"post_attention_layernorm.weight", 32, 0}, {"self_attn.q_norm.weight", 8, 0},
            {"self_attn.k_norm.weight", 8, 0},
        };
        for (int j = 0; j < 11; j++) {
            snprintf(name, sizeof name, "model.layers.%d.%s", l, t[j].suffix);
            expect_tensor(m, name, t[j].rows, t[j].cols);
        }
    }
    expect_tensor(m, "model.embed_tokens.weight", 16, 32);
    expect_tensor(m, "model.norm.weight", 32, 0);
}

static void test_siglip_model(void **state) {
    rf_synth_spec s = small_spec();
    char dir[4096], path[4096];
    write_model(state, "siglip", &s, dir);
    assert_int_equal(access(in_dir(path, state, "siglip/model.safetensors.index.json"), F_OK), -1);
    rf_st_model m;
    if (rf_st_open(&m, in_dir(path, state, "siglip/model.safetensors")) != RF_OK) fail_msg("%s", rf_last_error());
    assert_int_equal(m.ntensors, 11 * 2 + 2 + 16 * 2);
    expect_language_model(&m);
    const char *V = "vision_model.encoder.layers";
    char name[160];
    for (int b = 0; b < 2; b++) {
        const struct { const char *suffix; int64_t rows, cols; } t[8] = {
            {"self_attn.q_proj.weight", 16, 16},   {"self_attn.k_proj.weight", 16, 16},
            {"self_attn.v_proj.weight", 16, 16},   {"self_attn.out_proj.weight", 16, 16},
            {"mlp.fc1.weight", 32, 16},            {"mlp.fc2.weight", 16, 32},
            {"mlp.fc1.bias", 32, 0},               {"layer_norm2.bias", 16, 0},
        };
        for (int j = 0; j < 8; j++) {
            snprintf(name, sizeof name, "%s.%d.%s", V, b, t[j].suffix);
            expect_tensor(&m, name, t[j].rows, t[j].cols);
        }
    }
    assert_null(rf_st_find(&m, "vision_model.encoder.layers.0.attn.qkv.weight"));
    rf_st_close(&m);
}

static void test_internvit_sharded_model(void **state) {
    rf_synth_spec s = small_spec();
    s.vit_style = RF_VIT_INTERNVIT;
    s.shards = 2;
    char dir[4096], path[4096];
    write_model(state, "internvit", &s, dir);
    rf_st_model m;
    if (rf_st_open(&m, dir) != RF_OK) fail_msg("%s", rf_last_error()); /* through the index */
    assert_int_equal(m.nfiles, 2);
    assert_int_equal(m.ntensors, 11 * 2 + 2 + 12 * 2);
    expect_language_model(&m);
    expect_tensor(&m, "vision_model.encoder.layers.1.attn.qkv.weight", 48, 16);
    expect_tensor(&m, "vision_model.encoder.layers.1.attn.proj.weight", 16, 16);
    expect_tensor(&m, "vision_model.encoder.layers.1.mlp.fc2.weight", 16, 32);
    expect_tensor(&m, "vision_model.encoder.layers.1.norm1.weight", 16, 0);
    assert_null(rf_st_find(&m, "vision_model.encoder.layers.0.self_attn.q_proj.weight"));
    rf_st_close(&m);

    /* the index: layer 0, the embedding and the vision tower in the first file, layer 1 and the
     * final norm in the second */
    json_error_t err;
    json_t *index = json_load_file(in_dir(path, state, "internvit/model.safetensors.index.json"), 0, &err);
    assert_non_null(index);
    json_t *map = json_object_get(index, "weight_map");
    assert_int_equal(json_object_size(map), 11 * 2 + 2 + 12 * 2);
    const char *first = "model-00001-of-00002.safetensors", *second = "model-00002-of-00002.safetensors";
    assert_string_equal(json_string_value(json_object_get(map, "model.layers.0.mlp.up_proj.weight")), first);
    assert_string_equal(json_string_value(json_object_get(map, "model.embed_tokens.weight")), first);
    assert_string_equal(json_string_value(json_object_get(map, "vision_model.encoder.layers.1.attn.qkv.weight")), first);
    assert_string_equal(json_string_value(json_object_get(map, "model.layers.1.mlp.up_proj.weight")), second);
    assert_string_equal(json_string_value(json_object_get(map, "model.norm.weight")), second);
    json_decref(index);
}

static int64_t config_int(json_t *c, const char *key) {
    json_t *v = json_object_get(c, key);
    if (!json_is_integer(v)) fail_msg("config.json: %s is not an integer", key);
    return (int64_t)json_integer_value(v);
}

static void test_config_json(void **state) {
    rf_synth_spec s = small_spec();
    char dir[4096], path[4096];
    write_model(state, "m", &s, dir);
    json_error_t err;
    json_t *c = json_load_file(in_dir(path, state, "m/config.json"), 0, &err);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "model_type")), "qwen3");
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "architectures"), 0)),
                        "Qwen3ForCausalLM");
    assert_int_equal(config_int(c, "hidden_size"), 32);
    assert_int_equal(config_int(c, "intermediate_size"), 64);
    assert_int_equal(config_int(c, "num_hidden_layers"), 2);
    assert_int_equal(config_int(c, "num_attention_heads"), 4);
    assert_int_equal(config_int(c, "num_key_value_heads"), 2);
    assert_int_equal(config_int(c, "head_dim"), 8);
    assert_int_equal(config_int(c, "vocab_size"), 16);
    assert_string_equal(json_string_value(json_object_get(c, "torch_dtype")), "bfloat16");
    json_t *v = json_object_get(c, "vision_config");
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "model_type")), "siglip_vision_model");
    assert_int_equal(config_int(v, "num_hidden_layers"), 2);
    assert_int_equal(config_int(v, "hidden_size"), 16);
    assert_int_equal(config_int(v, "intermediate_size"), 32);
    json_decref(c);
}

/* The HDF5 address of /xtx/NAME: names that share a dataset have one address. */
static haddr_t xtx_address(hid_t file, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "/xtx/%s", name);
    H5O_info_t info;
    assert_true(H5Oget_info_by_name(file, path, &info, H5P_DEFAULT) >= 0);
    return info.addr;
}

static void test_xtx(void **state) {
    rf_synth_spec s = small_spec();
    char dir[4096], path[4096];
    write_model(state, "m", &s, dir);
    in_dir(path, state, "m/xtx.h5");
    rf_xtx_file *f;
    if (rf_xtx_open(&f, path) != RF_OK) fail_msg("%s", rf_last_error());
    const struct { const char *suffix; int64_t in; } linear[7] = {
        {"self_attn.q_proj", 32}, {"self_attn.k_proj", 32}, {"self_attn.v_proj", 32},
        {"self_attn.o_proj", 32}, {"mlp.gate_proj", 32},    {"mlp.up_proj", 32},
        {"mlp.down_proj", 64},
    };
    float xtx[64 * 64];
    char name[160];
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < 7; j++) {
            snprintf(name, sizeof name, "model.layers.%d.%s", l, linear[j].suffix);
            int64_t in = linear[j].in, nsamples = 0;
            assert_true(rf_xtx_has(f, name));
            if (rf_xtx_read(f, name, in, xtx, &nsamples) != RF_OK) fail_msg("%s", rf_last_error());
            assert_int_equal(nsamples, 64);
            for (int64_t a = 0; a < in; a++) {
                assert_true(xtx[a * in + a] > 0);
                for (int64_t b = 0; b < a; b++) assert_true(xtx[a * in + b] == xtx[b * in + a]);
            }
        }
    assert_false(rf_xtx_has(f, "vision_model.encoder.layers.0.mlp.fc1")); /* language model only */
    rf_xtx_close(f);

    hid_t h5 = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(h5 >= 0);
    haddr_t q = xtx_address(h5, "model.layers.1.self_attn.q_proj");
    assert_true(xtx_address(h5, "model.layers.1.self_attn.k_proj") == q);
    assert_true(xtx_address(h5, "model.layers.1.self_attn.v_proj") == q);
    assert_true(xtx_address(h5, "model.layers.1.self_attn.o_proj") != q);
    assert_true(xtx_address(h5, "model.layers.0.self_attn.q_proj") != q); /* per layer */
    haddr_t gate = xtx_address(h5, "model.layers.1.mlp.gate_proj");
    assert_true(xtx_address(h5, "model.layers.1.mlp.up_proj") == gate);
    assert_true(gate != q && xtx_address(h5, "model.layers.1.mlp.down_proj") != gate);
    H5Fclose(h5);
}

/* The whole file at path (its size in *n); the caller frees it. */
static char *read_all(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)*n);
    assert_int_equal(fread(buf, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return buf;
}

static int same_file(void **state, const char *a, const char *b) {
    char pa[4096], pb[4096];
    long na, nb;
    char *x = read_all(in_dir(pa, state, a), &na), *y = read_all(in_dir(pb, state, b), &nb);
    int same = na == nb && memcmp(x, y, (size_t)na) == 0;
    free(x);
    free(y);
    return same;
}

static void test_determinism(void **state) {
    rf_synth_spec s = small_spec();
    s.shards = 2;
    char dir[4096];
    write_model(state, "a", &s, dir);
    write_model(state, "b", &s, dir);
    s.seed = 4;
    write_model(state, "c", &s, dir);
    const char *files[] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                           "model.safetensors.index.json", "config.json"};
    char a[256], b[256];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "a/%s", files[i]);
        snprintf(b, sizeof b, "b/%s", files[i]);
        if (!same_file(state, a, b)) fail_msg("%s differs between two writes with one seed", files[i]);
    }
    assert_false(same_file(state, "a/model-00001-of-00002.safetensors", "c/model-00001-of-00002.safetensors"));
    /* xtx.h5: the same matrices (HDF5 records a time in each dataset's header, so not the same
     * bytes), and other ones for another seed */
    rf_xtx_file *f[3];
    char path[4096];
    const char *dirs[3] = {"a/xtx.h5", "b/xtx.h5", "c/xtx.h5"};
    for (int i = 0; i < 3; i++) assert_int_equal(rf_xtx_open(&f[i], in_dir(path, state, dirs[i])), RF_OK);
    static float x[3][64 * 64];
    const char *names[3] = {"model.layers.0.self_attn.k_proj", "model.layers.1.self_attn.o_proj",
                            "model.layers.1.mlp.down_proj"};
    const int64_t in[3] = {32, 32, 64};
    for (int k = 0; k < 3; k++) {
        int64_t n;
        for (int i = 0; i < 3; i++) assert_int_equal(rf_xtx_read(f[i], names[k], in[k], x[i], &n), RF_OK);
        assert_memory_equal(x[0], x[1], (size_t)(in[k] * in[k]) * sizeof(float));
        assert_memory_not_equal(x[0], x[2], (size_t)(in[k] * in[k]) * sizeof(float));
    }
    for (int i = 0; i < 3; i++) rf_xtx_close(f[i]);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_refusals), cmocka_unit_test(test_preset_and_embedded),
        T(test_siglip_model), T(test_internvit_sharded_model), T(test_config_json), T(test_xtx),
        T(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
