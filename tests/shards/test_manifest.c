/* test_manifest.c -- OUT/manifest.json (shards/manifest.h): the model fingerprint (the same for
 * the same tensors wherever they are, another for another name, shape or sampled byte), and the
 * manifest's check: written when absent, accepted when equal, refused naming --out and what
 * differs (another model, another configuration key by key, nested keys, keys only one side has,
 * a file that is not a manifest), and the XTX fingerprint: recorded with the file's path, other
 * statistics refused naming --xtx and --out, a run without --xtx against one with it and back,
 * an older manifest without the field read as one without --xtx. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <jansson.h>
#include <stdint.h>

#include "common/rf_error.h"
#include "io/safetensors.h"
#include "shards/manifest.h"

/* A one-tensor F32 model [rows, cols] holding data (rows * cols floats) in DIR/file. */
static void write_model(void **state, const char *file, const char *name, int64_t rows,
                        int64_t cols, const float *data, rf_st_model *m) {
    rf_st_entry e = {.name = name, .dtype = RF_DTYPE_F32, .ndim = 2, .shape = {rows, cols},
                     .data = data};
    char path[4096];
    assert_int_equal(rf_st_write(in_dir(path, state, file), &e, 1), RF_OK);
    assert_int_equal(rf_st_open(m, path), RF_OK);
}

static void fingerprint_of(void **state, const char *file, const char *name, int64_t rows,
                           int64_t cols, const float *data, char fp[17]) {
    rf_st_model m;
    write_model(state, file, name, rows, cols, data, &m);
    rf_model_fingerprint(&m, fp);
    rf_st_close(&m);
}

static void test_fingerprint(void **state) {
    enum { N = 64 * 64 };
    static float w[N];
    for (int i = 0; i < N; i++) w[i] = (float)i;
    char a[17], b[17], c[17], d[17], e[17];
    fingerprint_of(state, "a.safetensors", "w.weight", 64, 64, w, a);
    fingerprint_of(state, "b.safetensors", "w.weight", 64, 64, w, b);
    assert_int_equal(strlen(a), 16);
    assert_string_equal(a, b); /* the same tensors in another file */
    fingerprint_of(state, "c.safetensors", "v.weight", 64, 64, w, c);
    fingerprint_of(state, "d.safetensors", "w.weight", 32, 128, w, d);
    w[0] += 1; /* inside the first sample */
    fingerprint_of(state, "e.safetensors", "w.weight", 64, 64, w, e);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_string_not_equal(a, e);
}

static const char *CONFIG = "{\"method\":\"aqlm\",\"nbits_per_codebook\":8,\"seed\":0,"
                            "\"vit_generator\":{\"kind\":\"qgp\",\"steps\":60}}";

static void test_written_then_accepted(void **state) {
    const char *dir = *state;
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", NULL, NULL, CONFIG),
                     RF_OK);
    char path[4096];
    json_error_t err;
    json_t *m = json_load_file(in_dir(path, state, "manifest.json"), 0, &err);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "model_fingerprint")),
                        "0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(m, "model")), dir); /* absolute */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "config"),
                                                        "nbits_per_codebook")), 8);
    json_decref(m);
    /* the same model and configuration, keys in another order: accepted */
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", NULL, NULL,
                                                "{\"seed\":0,\"nbits_per_codebook\":8,"
                                                "\"vit_generator\":{\"steps\":60,\"kind\":\"qgp\"},"
                                                "\"method\":\"aqlm\"}"),
                     RF_OK);
}

static void expect_refusal(const char *dir, const char *fp, const char *config, const char *what) {
    assert_int_equal(rf_manifest_check_or_write(dir, dir, fp, NULL, NULL, config), RF_ERR);
    if (!strstr(rf_last_error(), what) || !strstr(rf_last_error(), "--out"))
        fail_msg("expected '%s' in: %s", what, rf_last_error());
}

static void test_refusals_name_what_differs(void **state) {
    const char *dir = *state;
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", NULL, NULL, CONFIG),
                     RF_OK);
    expect_refusal(dir, "fedcba9876543210", CONFIG,
                   "holds shards of another model (" );
    expect_refusal(dir, "fedcba9876543210", CONFIG, "fingerprint 0123456789abcdef");
    expect_refusal(dir, "0123456789abcdef",
                   "{\"method\":\"aqlm\",\"nbits_per_codebook\":4,\"seed\":0,"
                   "\"vit_generator\":{\"kind\":\"qgp\",\"steps\":60}}",
                   "another configuration (nbits_per_codebook 8 there, 4 here)");
    expect_refusal(dir, "0123456789abcdef",
                   "{\"method\":\"aqlm\",\"nbits_per_codebook\":8,\"seed\":0,"
                   "\"vit_generator\":{\"kind\":\"qgp\",\"steps\":61}}",
                   "vit_generator.steps 60 there, 61 here");
    expect_refusal(dir, "0123456789abcdef", "{\"method\":\"aqlm\",\"nbits_per_codebook\":8,\"seed\":0}",
                   "vit_generator {\"kind\": \"qgp\", \"steps\": 60} there, absent here");
    expect_refusal(dir, "0123456789abcdef",
                   "{\"method\":\"aqlm\",\"nbits_per_codebook\":8,\"seed\":0,\"xtx\":\"x.h5\","
                   "\"vit_generator\":{\"kind\":\"qgp\",\"steps\":60}}",
                   "xtx absent there, \"x.h5\" here");
}

static void test_not_a_manifest(void **state) {
    char path[4096];
    FILE *f = fopen(in_dir(path, state, "manifest.json"), "w");
    assert_non_null(f);
    fputs("{\"model\": 3}", f);
    fclose(f);
    expect_refusal(*state, "0123456789abcdef", CONFIG, "is not a riverforge manifest");
}

/* The same model and configuration; only the statistics under the XTX file's name change. */
static void expect_xtx_refusal(const char *dir, const char *xtx, const char *xtx_fp,
                               const char *what) {
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", xtx, xtx_fp, CONFIG),
                     RF_ERR);
    const char *e = rf_last_error();
    print_message("    error: %s\n", e);
    if (!strstr(e, "--xtx") || !strstr(e, "--out") || !strstr(e, what))
        fail_msg("expected --xtx, --out and '%s' in: %s", what, e);
}

static void test_xtx_fingerprint(void **state) {
    const char *dir = *state;
    char xtx[4096], path[4096];
    in_dir(xtx, state, "xtx.h5");
    FILE *f = fopen(xtx, "w"); /* realpath needs it to exist */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", xtx,
                                                "00000000000000aa", CONFIG), RF_OK);
    json_t *m = json_load_file(in_dir(path, state, "manifest.json"), 0, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "xtx_fingerprint")),
                        "00000000000000aa");
    assert_string_equal(json_string_value(json_object_get(m, "xtx")), xtx);
    json_decref(m);
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", xtx,
                                                "00000000000000aa", CONFIG), RF_OK);
    expect_xtx_refusal(dir, xtx, "00000000000000bb",
                       "fingerprint 00000000000000aa; this run: fingerprint 00000000000000bb");
    expect_xtx_refusal(dir, NULL, NULL, "this run: fingerprint none");

    /* A manifest of a run without --xtx, then one without the field at all (older riverforge). */
    remove(path);
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", NULL, NULL, CONFIG),
                     RF_OK);
    m = json_load_file(path, 0, NULL);
    assert_true(json_is_null(json_object_get(m, "xtx_fingerprint")) ||
                !json_object_get(m, "xtx_fingerprint"));
    expect_xtx_refusal(dir, xtx, "00000000000000aa", "no --xtx, XTX fingerprint none");
    json_object_del(m, "xtx_fingerprint");
    json_object_del(m, "xtx");
    assert_int_equal(json_dump_file(m, path, 0), 0);
    json_decref(m);
    assert_int_equal(rf_manifest_check_or_write(dir, dir, "0123456789abcdef", NULL, NULL, CONFIG),
                     RF_OK);
    expect_xtx_refusal(dir, xtx, "00000000000000aa", "XTX fingerprint none");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fingerprint, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_written_then_accepted, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_refusals_name_what_differs, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_not_a_manifest, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_xtx_fingerprint, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
