/* test_safetensors.c -- safetensors round trips (F32, F16, BF16, sharded with an index), zero-copy
 * views, and one test per kind of bad input, each checking that the error names the file and the
 * tensor. Bad files are hand-made: 8-byte length + header text + data bytes. The hostile index
 * cases (issue 13): shard names that leave the model folder, FIFOs (which a plain open would wait
 * on forever), directories, headers "{}" and an empty weight_map. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/fixtures/tmpdir.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "io/safetensors.h"


static const char *join(char *buf, const char *dir, const char *name) {
    snprintf(buf, 4096, "%s/%s", dir, name);
    return buf;
}

/* Writes a raw safetensors file: the length field says hlen, then header text, then ndata bytes
 * (data, or zeros when NULL). */
static void write_raw_len(const char *path, uint64_t hlen, const char *header, const void *data,
                          size_t ndata) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(hlen >> (8 * i));
    assert_int_equal(fwrite(len, 1, 8, f), 8);
    assert_int_equal(fwrite(header, 1, strlen(header), f), strlen(header));
    for (size_t i = 0; i < ndata; i++) fputc(data ? ((const unsigned char *)data)[i] : 0, f);
    assert_int_equal(fclose(f), 0);
}

static void write_raw(const char *path, const char *header, size_t ndata) {
    write_raw_len(path, strlen(header), header, NULL, ndata);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* rf_st_open(path) must fail with an error line that contains every string of the NULL-terminated
 * list needles. */
static void expect_open_error(const char *path, const char *const *needles) {
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, path), RF_ERR);
    assert_int_equal(m.nfiles, 0); /* cleaned up */
    const char *err = rf_last_error();
    for (; *needles; needles++)
        if (!strstr(err, *needles)) fail_msg("error \"%s\" lacks \"%s\"", err, *needles);
}
#define EXPECT_OPEN_ERROR(path, ...) expect_open_error(path, (const char *const[]){__VA_ARGS__, NULL})

/* ---- round trips ---- */

static const float f32_vals[6] = {1.0f, -2.5f, 3.25f, 0.0f, -1e-3f, 12345.678f};
/* Exactly representable in the 16-bit formats. */
static const float f16_vals[5] = {0.5f, -2.0f, 65504.0f, 6.1035156e-05f, -0.333251953125f};
static const float bf16_vals[4] = {1.5f, -3.0f, 0x1p127f, 0.0078125f};

static void test_round_trip(void **state) {
    const char *dir = *state;
    uint16_t h[5], b[4];
    for (int i = 0; i < 5; i++) h[i] = rf_f32_to_fp16(f16_vals[i]);
    for (int i = 0; i < 4; i++) b[i] = rf_f32_to_bf16(bf16_vals[i]);
    /* F16 first with an odd count: the F32 tensor after it starts at an unaligned offset. */
    rf_st_entry e[3] = {
        {.name = "z.half", .dtype = RF_DTYPE_F16, .ndim = 1, .shape = {5}, .data = h},
        {.name = "a.weight", .dtype = RF_DTYPE_F32, .ndim = 2, .shape = {2, 3}, .data = f32_vals},
        {.name = "m.bf", .dtype = RF_DTYPE_BF16, .ndim = 3, .shape = {1, 2, 2}, .data = b},
    };
    char path[4096], tmp[4096];
    join(path, dir, "x.safetensors");
    assert_int_equal(rf_st_write(path, e, 3), RF_OK);
    assert_int_equal(access(join(tmp, dir, "x.safetensors.tmp"), F_OK), -1); /* renamed away */

    rf_st_model m;
    assert_int_equal(rf_st_open(&m, path), RF_OK);
    assert_int_equal(m.nfiles, 1);
    assert_int_equal(m.ntensors, 3);
    /* The data buffer starts 8-byte aligned. */
    uint64_t hlen;
    memcpy(&hlen, m.maps[0], 8);
    assert_int_equal((8 + hlen) % 8, 0);
    assert_int_equal(m.sizes[0], 8 + hlen + 10 + 24 + 8);
    /* Sorted by name. */
    assert_string_equal(m.tensors[0].name, "a.weight");
    assert_string_equal(m.tensors[1].name, "m.bf");
    assert_string_equal(m.tensors[2].name, "z.half");
    assert_null(rf_st_find(&m, "nope"));

    const rf_st_tensor *t = rf_st_find(&m, "a.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, RF_DTYPE_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->numel, 6);
    assert_int_equal(t->nbytes, 24);
    assert_int_equal(((uintptr_t)t->data - (uintptr_t)m.maps[0] - 8 - hlen), 10);
    float out[6];
    assert_int_equal(rf_st_to_f32(&m, t, out), RF_OK);
    assert_memory_equal(out, f32_vals, sizeof f32_vals);

    t = rf_st_find(&m, "z.half");
    assert_non_null(t);
    assert_int_equal(t->dtype, RF_DTYPE_F16);
    assert_int_equal(t->numel, 5);
    assert_int_equal(rf_st_to_f32(&m, t, out), RF_OK);
    for (int i = 0; i < 5; i++) assert_true(out[i] == f16_vals[i]);

    t = rf_st_find(&m, "m.bf");
    assert_non_null(t);
    assert_int_equal(t->dtype, RF_DTYPE_BF16);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[2], 2);
    assert_int_equal(rf_st_to_f32(&m, t, out), RF_OK);
    for (int i = 0; i < 4; i++) assert_true(out[i] == bf16_vals[i]);
    rf_st_close(&m);
    assert_int_equal(m.ntensors, 0);
}

/* Large enough to take the OpenMP path; values are exact in bf16. */
static void test_large_bf16(void **state) {
    const char *dir = *state;
    enum { N = 300000 };
    uint16_t *b = malloc(N * sizeof *b);
    float *out = malloc(N * sizeof *out);
    for (int i = 0; i < N; i++) b[i] = rf_f32_to_bf16((float)(i % 256) - 128.0f);
    rf_st_entry e = {
        .name = "big", .dtype = RF_DTYPE_BF16, .ndim = 2, .shape = {600, 500}, .data = b};
    char path[4096];
    assert_int_equal(rf_st_write(join(path, dir, "big.safetensors"), &e, 1), RF_OK);
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, path), RF_OK);
    assert_int_equal(rf_st_to_f32(&m, rf_st_find(&m, "big"), out), RF_OK);
    for (int i = 0; i < N; i++) assert_true(out[i] == (float)(i % 256) - 128.0f);
    rf_st_close(&m);
    free(b);
    free(out);
}

static void test_zero_copy(void **state) {
    const char *dir = *state;
    rf_st_entry e = {.name = "w", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {6}, .data = f32_vals};
    char path[4096];
    assert_int_equal(rf_st_write(join(path, dir, "model.safetensors"), &e, 1), RF_OK);
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, dir), RF_OK); /* a directory with model.safetensors */
    const rf_st_tensor *t = rf_st_find(&m, "w");
    assert_non_null(t);
    const char *base = m.maps[0];
    assert_true((const char *)t->data >= base + 8);
    assert_true((const char *)t->data + t->nbytes <= base + m.sizes[0]);
    assert_memory_equal(t->data, f32_vals, sizeof f32_vals);
    rf_st_close(&m);
}

static void test_sharded(void **state) {
    const char *dir = *state;
    float a[4] = {1, 2, 3, 4}, c[2] = {5, 6};
    uint16_t b[3] = {rf_f32_to_bf16(7), rf_f32_to_bf16(8), rf_f32_to_bf16(9)};
    rf_st_entry e1[2] = {
        {.name = "layers.0.w", .dtype = RF_DTYPE_F32, .ndim = 2, .shape = {2, 2}, .data = a},
        {.name = "layers.1.w", .dtype = RF_DTYPE_BF16, .ndim = 1, .shape = {3}, .data = b},
    };
    rf_st_entry e2 = {.name = "head.w", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = c};
    const char *f1 = "model-00001-of-00002.safetensors", *f2 = "model-00002-of-00002.safetensors";
    char p[4096];
    assert_int_equal(rf_st_write(join(p, dir, f1), e1, 2), RF_OK);
    assert_int_equal(rf_st_write(join(p, dir, f2), &e2, 1), RF_OK);
    const char *names[3] = {"layers.0.w", "layers.1.w", "head.w"};
    const char *files[3] = {f1, f1, f2};
    assert_int_equal(rf_st_write_index(dir, 3, names, files, 30), RF_OK);

    /* The index is what transformers expects. */
    json_error_t jerr;
    json_t *idx = json_load_file(join(p, dir, "model.safetensors.index.json"), 0, &jerr);
    assert_non_null(idx);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(idx, "metadata"), "total_size")), 30);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(idx, "weight_map"), "head.w")), f2);
    json_decref(idx);

    rf_st_model m;
    assert_int_equal(rf_st_open(&m, dir), RF_OK);
    assert_int_equal(m.nfiles, 2);
    assert_int_equal(m.ntensors, 3);
    for (int i = 0; i < 3; i++) {
        const rf_st_tensor *t = rf_st_find(&m, names[i]);
        assert_non_null(t);
        const char *path = m.paths[t->file_index];
        assert_string_equal(path + strlen(path) - strlen(files[i]), files[i]);
        /* The view lies in the right file's mapping. */
        assert_true((const char *)t->data >= (const char *)m.maps[t->file_index]);
        assert_true((const char *)t->data + t->nbytes <=
                    (const char *)m.maps[t->file_index] + m.sizes[t->file_index]);
    }
    float out[3];
    assert_int_equal(rf_st_to_f32(&m, rf_st_find(&m, "layers.1.w"), out), RF_OK);
    assert_true(out[0] == 7 && out[1] == 8 && out[2] == 9);
    assert_int_equal(rf_st_to_f32(&m, rf_st_find(&m, "head.w"), out), RF_OK);
    assert_true(out[0] == 5 && out[1] == 6);
    rf_st_close(&m);
}

/* ---- bad input ---- */

static void test_missing_path(void **state) {
    char p[4096];
    EXPECT_OPEN_ERROR(join(p, *state, "nothere.safetensors"), p, "No such file");
    EXPECT_OPEN_ERROR(*state, *state, "no model.safetensors"); /* an empty directory */
}

static void test_empty_file(void **state) {
    char p[4096];
    write_text(join(p, *state, "empty.safetensors"), "");
    EXPECT_OPEN_ERROR(p, p, "not a safetensors file");
}

static void test_truncated(void **state) {
    char p[4096];
    write_raw_len(join(p, *state, "t.safetensors"), 1234, "{}", NULL, 90);
    EXPECT_OPEN_ERROR(p, p, "truncated", "1234");
}

static void test_huge_header_length(void **state) {
    char p[4096];
    write_raw_len(join(p, *state, "h.safetensors"), 1ull << 40, "{}", NULL, 0);
    EXPECT_OPEN_ERROR(p, p, "not a safetensors file", "100 MB");
}

static void test_not_json(void **state) {
    char p[4096];
    write_raw(join(p, *state, "j.safetensors"), "{\"w\": {\"dtype\": \"F32\",, }", 16);
    EXPECT_OPEN_ERROR(p, p, "header is not JSON", "column");
    write_raw(p, "[1, 2]", 0);
    EXPECT_OPEN_ERROR(p, p, "not a JSON object");
}

static void test_offsets_beyond_file(void **state) {
    char p[4096];
    write_raw(join(p, *state, "o.safetensors"),
              "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16);
    EXPECT_OPEN_ERROR(p, p, "tensor w", "[8, 24]", "beyond");
}

static void test_size_mismatch(void **state) {
    char p[4096], want[8192];
    write_raw(join(p, *state, "s.safetensors"),
              "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,100]}}", 100);
    snprintf(want, sizeof want,
             "%s: tensor w: data_offsets [0, 100] hold 100 bytes but shape [3, 4] F32 needs 48", p);
    EXPECT_OPEN_ERROR(p, want);
}

static void test_bad_shape(void **state) {
    char p[4096];
    write_raw(join(p, *state, "b.safetensors"),
              "{\"w\":{\"dtype\":\"F32\",\"shape\":[3,-4],\"data_offsets\":[0,0]}}", 0);
    EXPECT_OPEN_ERROR(p, p, "tensor w", "shape[1]");
    write_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
              4);
    EXPECT_OPEN_ERROR(p, p, "tensor w", "9 dimensions");
    write_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4);
    EXPECT_OPEN_ERROR(p, p, "tensor w", "[4, 0]");
}

static void test_overlap(void **state) {
    char p[4096];
    write_raw(join(p, *state, "v.safetensors"),
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
              "\"e\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[4,4]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
              20);
    EXPECT_OPEN_ERROR(p, p, "tensors a [0, 16] and b [12, 20] overlap");
}

static void test_unknown_dtype(void **state) {
    char p[4096], want[8192];
    write_raw(join(p, *state, "d.safetensors"),
              "{\"__metadata__\":{\"format\":\"pt\"},"
              "\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
              16);
    snprintf(want, sizeof want,
             "unsupported dtype F64 for tensor w in %s (riverforge reads F32, F16, BF16)", p);
    EXPECT_OPEN_ERROR(p, want);
}

static void test_non_finite_f32(void **state) {
    char p[4096];
    float v[6] = {1, 2, 3, 4, 5, 6};
    rf_st_entry e = {.name = "w", .dtype = RF_DTYPE_F32, .ndim = 2, .shape = {2, 3}, .data = v};
    rf_st_model m;
    float out[6];
    v[4] = 0.0f / 0.0f; /* index [1, 1] */
    v[5] = 1.0f / 0.0f; /* not the first one */
    assert_int_equal(rf_st_write(join(p, *state, "n.safetensors"), &e, 1), RF_OK);
    assert_int_equal(rf_st_open(&m, p), RF_OK);
    assert_int_equal(rf_st_to_f32(&m, rf_st_find(&m, "w"), out), RF_ERR);
    char want[8192];
    snprintf(want, sizeof want, "%s: tensor w: non-finite value (nan) at index [1, 1]", p);
    assert_string_equal(rf_last_error(), want);
    rf_st_close(&m);
}

static void test_non_finite_bf16(void **state) {
    char p[4096];
    uint16_t b[4] = {rf_f32_to_bf16(1), rf_f32_to_bf16(-1.0f / 0.0f), rf_f32_to_bf16(1.0f / 0.0f),
                     0};
    rf_st_entry e = {.name = "v", .dtype = RF_DTYPE_BF16, .ndim = 2, .shape = {2, 2}, .data = b};
    rf_st_model m;
    float out[4];
    assert_int_equal(rf_st_write(join(p, *state, "n.safetensors"), &e, 1), RF_OK);
    assert_int_equal(rf_st_open(&m, p), RF_OK);
    assert_int_equal(rf_st_to_f32(&m, rf_st_find(&m, "v"), out), RF_ERR);
    char want[8192];
    snprintf(want, sizeof want, "%s: tensor v: non-finite value (-inf) at index [0, 1]", p);
    assert_string_equal(rf_last_error(), want);
    rf_st_close(&m);
}

static void test_index_missing_shard(void **state) {
    const char *dir = *state;
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e = {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(rf_st_write(join(p, dir, "s1.safetensors"), &e, 1), RF_OK);
    const char *names[2] = {"a", "b"}, *files[2] = {"s1.safetensors", "s2.safetensors"};
    assert_int_equal(rf_st_write_index(dir, 2, names, files, 16), RF_OK);
    EXPECT_OPEN_ERROR(dir, "s2.safetensors", "No such file");
}

static void test_index_tensor_not_in_shard(void **state) {
    const char *dir = *state;
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e1 = {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    rf_st_entry e2 = {.name = "c", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(rf_st_write(join(p, dir, "s1.safetensors"), &e1, 1), RF_OK);
    assert_int_equal(rf_st_write(join(p, dir, "s2.safetensors"), &e2, 1), RF_OK);
    /* "b" is in no shard. */
    const char *names[3] = {"a", "b", "c"};
    const char *files[3] = {"s1.safetensors", "s2.safetensors", "s2.safetensors"};
    assert_int_equal(rf_st_write_index(dir, 3, names, files, 16), RF_OK);
    EXPECT_OPEN_ERROR(dir, "model.safetensors.index.json", "tensor b", "s2.safetensors");
}

static void test_index_tensor_in_other_shard(void **state) {
    const char *dir = *state;
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e1 = {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    rf_st_entry e2[2] = {{.name = "c", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a},
                         {.name = "d", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a}};
    assert_int_equal(rf_st_write(join(p, dir, "s1.safetensors"), &e1, 1), RF_OK);
    assert_int_equal(rf_st_write(join(p, dir, "s2.safetensors"), e2, 2), RF_OK);
    /* "c" is in s2 but the index says s1. */
    const char *names[3] = {"a", "c", "d"};
    const char *files[3] = {"s1.safetensors", "s1.safetensors", "s2.safetensors"};
    assert_int_equal(rf_st_write_index(dir, 3, names, files, 24), RF_OK);
    EXPECT_OPEN_ERROR(dir, "tensor c is mapped to s1.safetensors but is in", "s2.safetensors");
}

static void test_duplicate_across_shards(void **state) {
    const char *dir = *state;
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e = {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(rf_st_write(join(p, dir, "s1.safetensors"), &e, 1), RF_OK);
    assert_int_equal(rf_st_write(join(p, dir, "s2.safetensors"), &e, 1), RF_OK);
    write_text(join(p, dir, "model.safetensors.index.json"),
               "{\"weight_map\": {\"a\": \"s1.safetensors\", \"x\": \"s2.safetensors\"}}");
    EXPECT_OPEN_ERROR(dir, "tensor a is in both", "s1.safetensors", "s2.safetensors");
}

/* ---- hostile model folders ---- */

/* DIR/model.safetensors.index.json mapping tensor "a" to FILE (a JSON string literal's body). */
static void write_index_to(const char *dir, const char *file) {
    char p[4096], text[8192];
    snprintf(text, sizeof text, "{\"weight_map\": {\"a\": \"%s\"}}", file);
    write_text(join(p, dir, "model.safetensors.index.json"), text);
}

/* DIR/NAME holding tensor "a" as float32 [2]. */
static void write_a(const char *dir, const char *name) {
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e = {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(rf_st_write(join(p, dir, name), &e, 1), RF_OK);
}

/* Shard names that are not plain file names of the model folder are refused before any file is
 * opened, naming the index and the entry; each target exists and is a valid shard, so only the
 * name check can refuse it. */
static void test_index_names_outside(void **state) {
    char model[1024], sub[1024], abs_name[4096];
    snprintf(model, sizeof model, "%s/model", (const char *)*state);
    snprintf(sub, sizeof sub, "%s/model/sub", (const char *)*state);
    assert_int_equal(mkdir(model, 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_a(*state, "outside.safetensors");
    write_a(sub, "x.safetensors");
    join(abs_name, *state, "outside.safetensors");
    const char *bad[] = {"../outside.safetensors", abs_name, "sub/x.safetensors", "", "..", "."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_index_to(model, bad[i]);
        char quoted[4200];
        snprintf(quoted, sizeof quoted, "is \"%s\", not the name of a file in the model directory",
                 bad[i]);
        EXPECT_OPEN_ERROR(model, "model.safetensors.index.json: weight_map[\"a\"]", quoted);
    }
}

/* A FIFO or a directory named by the index is refused without blocking, naming the index, the
 * entry and the file; a FIFO given as the model, or as DIR/model.safetensors, likewise. A test
 * that hangs here is the bug. */
static void test_index_fifo_and_directory(void **state) {
    const char *dir = *state;
    char p[4096];
    assert_int_equal(mkfifo(join(p, dir, "s1.safetensors"), 0644), 0);
    write_index_to(dir, "s1.safetensors");
    EXPECT_OPEN_ERROR(dir, "model.safetensors.index.json: weight_map[\"a\"]: ", p,
                      "not a regular file (a FIFO)");
    EXPECT_OPEN_ERROR(p, p, "not a regular file (a FIFO)");
    assert_int_equal(mkdir(join(p, dir, "d.safetensors"), 0755), 0);
    write_index_to(dir, "d.safetensors");
    EXPECT_OPEN_ERROR(dir, "weight_map[\"a\"]: ", p, "not a regular file (a directory)");
    assert_int_equal(mkfifo(join(p, dir, "model.safetensors"), 0644), 0);
    EXPECT_OPEN_ERROR(dir, p, "not a regular file (a FIFO)");
}

/* A shard that is a symbolic link (the Hugging Face cache links snapshot files to blobs) opens. */
static void test_index_symlink_shard(void **state) {
    char blobs[1024], target[4096], link[4096];
    snprintf(blobs, sizeof blobs, "%s/blobs", (const char *)*state);
    assert_int_equal(mkdir(blobs, 0755), 0);
    write_a(blobs, "abc123");
    join(target, blobs, "abc123");
    assert_int_equal(symlink(target, join(link, *state, "s1.safetensors")), 0);
    write_index_to(*state, "s1.safetensors");
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, *state), RF_OK);
    assert_int_equal(m.ntensors, 1);
    assert_non_null(rf_st_find(&m, "a"));
    rf_st_close(&m);
}

/* Headers "{}": one file opens with no tensor (and finding one gives NULL); two index-named files
 * with no tensor give the index's error, not an internal one (a realloc(p, 0) that freed p). */
static void test_empty_headers(void **state) {
    const char *dir = *state;
    char p[4096];
    write_raw(join(p, dir, "e.safetensors"), "{}", 0);
    rf_st_model m;
    assert_int_equal(rf_st_open(&m, p), RF_OK);
    assert_int_equal(m.ntensors, 0);
    assert_null(rf_st_find(&m, "a"));
    rf_st_close(&m);
    write_raw(join(p, dir, "s1.safetensors"), "{}", 0);
    write_raw(join(p, dir, "s2.safetensors"), "{\"__metadata__\": {\"format\": \"pt\"}}", 0);
    write_text(join(p, dir, "model.safetensors.index.json"),
               "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}}");
    EXPECT_OPEN_ERROR(dir, "model.safetensors.index.json: tensor a is mapped to s1.safetensors, "
                           "which has no tensor a");
}

static void test_index_empty_or_malformed(void **state) {
    const char *dir = *state;
    char p[4096];
    write_text(join(p, dir, "model.safetensors.index.json"), "{\"weight_map\": {}}");
    EXPECT_OPEN_ERROR(dir, p, "\"weight_map\" is empty");
    write_text(p, "{\"weight_map\":\n {\"a\": \"s1.safetensors\",}}");
    EXPECT_OPEN_ERROR(dir, p, "not valid JSON at line 2 column");
    write_text(p, "{\"weight_map\": {\"a\": 3}}");
    EXPECT_OPEN_ERROR(dir, p, "weight_map[\"a\"] is not a file name");
}

static void test_write_errors(void **state) {
    char p[4096];
    float a[2] = {1, 2};
    rf_st_entry e[2] = {{.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a},
                        {.name = "a", .dtype = RF_DTYPE_F32, .ndim = 1, .shape = {2}, .data = a}};
    join(p, *state, "no/such/dir/x.safetensors");
    assert_int_equal(rf_st_write(p, e, 1), RF_ERR);
    assert_non_null(strstr(rf_last_error(), p));
    assert_non_null(strstr(rf_last_error(), "No such file"));
    assert_int_equal(rf_st_write(join(p, *state, "dup.safetensors"), e, 2), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "tensor a is listed twice"));
    assert_int_equal(access(p, F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
        T(test_round_trip),
        T(test_large_bf16),
        T(test_zero_copy),
        T(test_sharded),
        T(test_missing_path),
        T(test_empty_file),
        T(test_truncated),
        T(test_huge_header_length),
        T(test_not_json),
        T(test_offsets_beyond_file),
        T(test_size_mismatch),
        T(test_bad_shape),
        T(test_overlap),
        T(test_unknown_dtype),
        T(test_non_finite_f32),
        T(test_non_finite_bf16),
        T(test_index_missing_shard),
        T(test_index_tensor_not_in_shard),
        T(test_index_tensor_in_other_shard),
        T(test_duplicate_across_shards),
        T(test_index_names_outside),
        T(test_index_fifo_and_directory),
        T(test_index_symlink_shard),
        T(test_empty_headers),
        T(test_index_empty_or_malformed),
        T(test_write_errors),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
