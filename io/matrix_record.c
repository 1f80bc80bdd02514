/* matrix_record.c -- /matrices/NAME of shards and checkpoints (layout in matrix_record.h).
 *
 * On disk: codes uint8 when nbits_per_codebook <= 8, else uint16 (read back as uint16);
 * codebooks and scales IEEE float16 (read back as float32). Attribute types: h5_util.h.
 * Every read checks the attributes against the dataset shapes and every code against K, so that
 * what callers get can be dequantized without going out of bounds.
 */
#include "io/matrix_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "io/h5_util.h"

#define PATH_LEN RF_CONTAINER_PATH_LEN

/* "/matrices/NAME", or "/matrices/NAME/LEAF" when leaf is given. */
static void matrix_path(char *buf, const char *name, const char *leaf) {
    rf_container_record_path(buf, RF_MATRIX_GROUP, name, leaf);
}

/* ---------------------------------------------------------------------------------------------
 * Writing */

static void write_fp16(hid_t file, const char *name, const char *leaf, int rank,
                       const hsize_t *dims, const float *x) {
    size_t n = 1;
    for (int d = 0; d < rank; d++) n *= dims[d];
    uint16_t *h = rf_malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = rf_f32_to_fp16(x[i]);
    char p[PATH_LEN];
    matrix_path(p, name, leaf);
    rf_h5_write_dataset(file, p, rf_h5_fp16(), rf_h5_fp16(), rank, dims, h);
    free(h);
}

/* Codes as uint8 when every code fits (nbits <= 8): half the bytes of uint16. */
static void write_codes(hid_t file, const char *name, int nbits, const hsize_t *dims,
                        const uint16_t *codes) {
    size_t n = dims[0] * dims[1] * dims[2];
    for (size_t i = 0; i < n; i++)
        rf_check(codes[i] >> nbits == 0, "%s: code %u does not fit %d bits", name, codes[i], nbits);
    char p[PATH_LEN];
    matrix_path(p, name, "codes");
    if (nbits > 8) {
        rf_h5_write_dataset(file, p, H5T_STD_U16LE, H5T_NATIVE_UINT16, 3, dims, codes);
        return;
    }
    uint8_t *c8 = rf_malloc(n);
    for (size_t i = 0; i < n; i++) c8[i] = (uint8_t)codes[i];
    rf_h5_write_dataset(file, p, H5T_STD_U8LE, H5T_NATIVE_UINT8, 3, dims, c8);
    free(c8);
}

void rf_matrix_write_group(hid_t file, const rf_matrix_record *rec) {
    const rf_aqlm_matrix *q = rec->q;
    const rf_aqlm_stats *st = rec->stats;
    int nbits = 0;
    while (nbits < 16 && (1 << nbits) < q->K) nbits++;
    rf_check(q->K == 1 << nbits && nbits >= 1, "%s: K = %d is not 2^1..2^16", rec->name, q->K);
    rf_check(q->M >= 1 && q->og >= 1 && q->ig >= 1 && q->out_features % q->og == 0 &&
                 q->in_features % q->ig == 0,
             "%s: [%lld, %lld] does not fit the groups", rec->name, (long long)q->out_features,
             (long long)q->in_features);

    char g[PATH_LEN];
    matrix_path(g, rec->name, NULL);
    rf_h5_create_group(file, g);
    rf_h5_attr_str(file, g, "method", "aqlm");
    const struct { const char *name; int64_t value; } ints[] = {
        {"out_features", q->out_features}, {"in_features", q->in_features},
        {"num_codebooks", q->M},           {"nbits_per_codebook", nbits},
        {"in_group_size", q->ig},          {"out_group_size", q->og},
        {"epochs", st->epochs},            {"adam_steps", st->adam_steps}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        rf_h5_attr_i64(file, g, ints[i].name, ints[i].value);
    const struct { const char *name; double value; } reals[] = {
        {"rel_act_err", st->rel_act_err}, {"rel_w_err", st->rel_w_err},
        {"bits_per_weight", st->bits_per_weight}, {"seconds", st->seconds}};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        rf_h5_attr_f64(file, g, reals[i].name, reals[i].value);
    rf_h5_attr_str(file, g, "device", rec->device);

    hsize_t rows = (hsize_t)(q->out_features / q->og);
    const hsize_t codes_dims[3] = {rows, (hsize_t)(q->in_features / q->ig), (hsize_t)q->M};
    const hsize_t book_dims[4] = {(hsize_t)q->M, (hsize_t)q->K, (hsize_t)q->og, (hsize_t)q->ig};
    write_codes(file, rec->name, nbits, codes_dims, q->codes);
    write_fp16(file, rec->name, "codebooks", 4, book_dims, q->codebooks);
    write_fp16(file, rec->name, "scales", 1, &rows, q->scales);
}

int rf_matrix_shard_write(const char *path, const char *config_json, const rf_matrix_record *rec) {
    hid_t file;
    if (rf_container_create_shard(path, config_json, rec->name, &file) != RF_OK) return RF_ERR;
    rf_matrix_write_group(file, rec);
    return rf_h5_finish(file, path, RF_OK);
}

/* ---------------------------------------------------------------------------------------------
 * Reading. Static readers record messages that name the object; the public functions name the
 * file. */

/* The attributes that fix a matrix's shapes. */
typedef struct {
    int64_t out, in, M, nbits, ig, og;
} matrix_shape;

static int read_shape(hid_t file, const char *g, matrix_shape *s) {
    char *method;
    if (rf_h5_read_attr_str(file, g, "method", &method) != RF_OK) return RF_ERR;
    int rc = strcmp(method, "aqlm") ? rf_fail("%s: method is \"%s\", expected \"aqlm\"", g, method)
                                    : RF_OK;
    free(method);
    if (rc != RF_OK) return rc;
    const struct { const char *name; int64_t *value, hi; } f[] = {
        {"out_features", &s->out, INT32_MAX},  {"in_features", &s->in, INT32_MAX},
        {"num_codebooks", &s->M, 256},         {"nbits_per_codebook", &s->nbits, 16},
        {"in_group_size", &s->ig, INT32_MAX},  {"out_group_size", &s->og, INT32_MAX}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (rf_h5_read_attr_i64(file, g, f[i].name, f[i].value) != RF_OK) return RF_ERR;
        if (*f[i].value < 1 || *f[i].value > f[i].hi)
            return rf_fail("%s: %s = %lld is outside [1, %lld]", g, f[i].name,
                           (long long)*f[i].value, (long long)f[i].hi);
    }
    if (s->out % s->og || s->in % s->ig)
        return rf_fail("%s: groups %lld x %lld do not divide [%lld, %lld]", g, (long long)s->og,
                       (long long)s->ig, (long long)s->out, (long long)s->in);
    return RF_OK;
}

/* Checks that /matrices/NAME/LEAF has file type want (want_name in messages) and shape
 * dims[rank]. */
static int check_dataset(hid_t file, const char *name, const char *leaf, hid_t want,
                         const char *want_name, int rank, const hsize_t *dims) {
    char p[PATH_LEN], got_s[128], want_s[128];
    matrix_path(p, name, leaf);
    hid_t d;
    if (rf_h5_open_dataset(file, p, &d) != RF_OK) return RF_ERR;
    hid_t t = RF_H5(H5Dget_type(d));
    int same = (int)RF_H5(H5Tequal(t, want));
    RF_H5(H5Tclose(t));
    hsize_t got[4];
    int got_rank = rf_h5_dataset_rank(d, got, 4);
    RF_H5(H5Dclose(d));
    if (!same) return rf_fail("%s is not %s", p, want_name);
    if (got_rank != rank) return rf_fail("%s has %d dimensions, expected %d", p, got_rank, rank);
    if (memcmp(got, dims, (size_t)rank * sizeof *dims))
        return rf_fail("%s is %s, expected %s", p, rf_h5_shape_str(got, rank, got_s, sizeof got_s),
                       rf_h5_shape_str(dims, rank, want_s, sizeof want_s));
    return RF_OK;
}

/* Reads all of /matrices/NAME/LEAF as mtype: this is where the Fletcher32 checksums are
 * verified. */
static int read_dataset(hid_t file, const char *name, const char *leaf, hid_t mtype, void *buf) {
    char p[PATH_LEN];
    matrix_path(p, name, leaf);
    hid_t d;
    if (rf_h5_open_dataset(file, p, &d) != RF_OK) return RF_ERR;
    int rc = rf_h5_read_dataset(d, mtype, buf);
    RF_H5(H5Dclose(d));
    return rc;
}

static int read_fp16(hid_t file, const char *name, const char *leaf, size_t n, float *x) {
    uint16_t *h = rf_malloc(n * sizeof *h);
    int rc = read_dataset(file, name, leaf, rf_h5_fp16(), h);
    if (rc == RF_OK)
        for (size_t i = 0; i < n; i++) x[i] = rf_fp16_to_f32(h[i]);
    free(h);
    return rc;
}

static int read_stats(hid_t file, const char *g, rf_aqlm_stats *st) {
    const struct { const char *name; double *value; } reals[] = {
        {"rel_act_err", &st->rel_act_err}, {"rel_w_err", &st->rel_w_err},
        {"bits_per_weight", &st->bits_per_weight}, {"seconds", &st->seconds}};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        if (rf_h5_read_attr_f64(file, g, reals[i].name, reals[i].value) != RF_OK) return RF_ERR;
    int64_t epochs, adam_steps;
    if (rf_h5_read_attr_i64(file, g, "epochs", &epochs) != RF_OK ||
        rf_h5_read_attr_i64(file, g, "adam_steps", &adam_steps) != RF_OK)
        return RF_ERR;
    st->epochs = (int)epochs;
    st->adam_steps = (int)adam_steps;
    return RF_OK;
}

static int read_device(hid_t file, const char *g, char *device, int device_len) {
    char *s;
    if (rf_h5_read_attr_str(file, g, "device", &s) != RF_OK) return RF_ERR;
    snprintf(device, (size_t)device_len, "%s", s);
    free(s);
    return RF_OK;
}

/* The datasets of /matrices/NAME into q, allocated with rf_aqlm_alloc only once every type and
 * shape agrees with the attributes (a damaged header cannot ask for a huge allocation). On RF_ERR
 * q holds nothing. */
static int read_datasets(hid_t file, const char *name, const matrix_shape *s, rf_aqlm_matrix *q) {
    hsize_t rows = (hsize_t)(s->out / s->og), K = (hsize_t)1 << s->nbits;
    const hsize_t codes_dims[3] = {rows, (hsize_t)(s->in / s->ig), (hsize_t)s->M};
    const hsize_t book_dims[4] = {(hsize_t)s->M, K, (hsize_t)s->og, (hsize_t)s->ig};
    int small = s->nbits <= 8;
    if (check_dataset(file, name, "codes", small ? H5T_STD_U8LE : H5T_STD_U16LE,
                      small ? "uint8" : "uint16", 3, codes_dims) != RF_OK ||
        check_dataset(file, name, "codebooks", rf_h5_fp16(), "float16", 4, book_dims) != RF_OK ||
        check_dataset(file, name, "scales", rf_h5_fp16(), "float16", 1, &rows) != RF_OK)
        return RF_ERR;

    rf_aqlm_config cfg = {.num_codebooks = (int)s->M, .nbits_per_codebook = (int)s->nbits,
                          .in_group_size = (int)s->ig, .out_group_size = (int)s->og};
    rf_aqlm_alloc(q, s->out, s->in, &cfg);
    int rc = read_dataset(file, name, "codes", H5T_NATIVE_UINT16, q->codes);
    /* A code >= K would index past the codebook in every dequantizer. */
    size_t ncodes = codes_dims[0] * codes_dims[1] * codes_dims[2];
    for (size_t i = 0; rc == RF_OK && i < ncodes; i++)
        if (q->codes[i] >= K)
            rc = rf_fail("/matrices/%s/codes holds %u at index %zu, not below K = %llu", name,
                         q->codes[i], i, (unsigned long long)K);
    if (rc == RF_OK)
        rc = read_fp16(file, name, "codebooks", s->M * K * s->og * s->ig, q->codebooks);
    if (rc == RF_OK) rc = read_fp16(file, name, "scales", rows, q->scales);
    if (rc != RF_OK) rf_aqlm_free(q);
    return rc;
}

int rf_matrix_read_group(hid_t file, const char *fname, const char *name, rf_aqlm_matrix *q,
                         rf_aqlm_stats *stats, char *device, int device_len) {
    char g[PATH_LEN];
    matrix_path(g, name, NULL);
    int e = rf_h5_exists(file, g);
    if (e == 0) return rf_fail("%s has no %s", fname, g);
    matrix_shape s;
    rf_aqlm_stats st;
    rf_aqlm_matrix scratch;
    rf_aqlm_matrix *into = q ? q : &scratch;
    char dev[64];
    /* The attributes first: read_datasets is last so that it alone owns the matrix's cleanup. */
    if (e < 0 || read_shape(file, g, &s) != RF_OK || read_stats(file, g, &st) != RF_OK ||
        read_device(file, g, dev, sizeof dev) != RF_OK ||
        read_datasets(file, name, &s, into) != RF_OK)
        return rf_container_fail_in(fname);
    if (!q) rf_aqlm_free(&scratch);
    if (stats) *stats = st;
    if (device) snprintf(device, (size_t)device_len, "%s", dev);
    return RF_OK;
}

int rf_matrix_shard_verify(const char *path, const char *name, const char *config_json,
                           rf_aqlm_stats *stats) {
    hid_t file;
    if (rf_container_open_shard(path, config_json, &file) != RF_OK) return RF_ERR;
    int rc = rf_matrix_read_group(file, path, name, NULL, stats, NULL, 0);
    rf_h5_close(file);
    return rc;
}

int rf_matrix_read(const char *path, const char *name, rf_aqlm_matrix *q, rf_aqlm_stats *stats,
                   char *device, int device_len) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = rf_matrix_read_group(file, path, name, q, stats, device, device_len);
    rf_h5_close(file);
    return rc;
}

int rf_matrix_list(const char *path, char ***names, int *n) {
    return rf_container_list(path, RF_MATRIX_GROUP, 0, names, n);
}
