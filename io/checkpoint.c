/* checkpoint.c -- the HDF5 shard and checkpoint files (layout in checkpoint.h).
 *
 * A shard holds one task's /matrices/NAME plus root attributes that tie it to the run's
 * configuration; rf_shard_verify is what resume trusts. The checkpoint has the same layout for
 * every task: rf_checkpoint_assemble H5Ocopy's each shard's group (chunks are copied as stored,
 * Fletcher32 checksums included) and then reads every copied dataset back, so a damaged shard
 * cannot slip in. Files are built in memory and written with rf_atomic_write (h5_util.h says
 * why): a file at PATH is always complete.
 *
 * On disk: codes uint8 when nbits_per_codebook <= 8, else uint16 (read back as uint16);
 * codebooks and scales IEEE float16 (read back as float32). Attribute types: h5_util.h.
 * Every read checks the attributes against the dataset shapes and every code against K, so that
 * what callers get can be dequantized without going out of bounds.
 */
#include "io/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "io/checkpoint_internal.h"
#include "io/vit_record.h"
#include "io/h5_util.h"

#define PATH_LEN RF_CKPT_PATH_LEN

/* "/matrices/NAME", or "/matrices/NAME/LEAF" when leaf is given. */
static void matrix_path(char *buf, const char *name, const char *leaf) {
    int n = leaf ? snprintf(buf, PATH_LEN, "/matrices/%s/%s", name, leaf)
                 : snprintf(buf, PATH_LEN, "/matrices/%s", name);
    rf_check(n < PATH_LEN, "tensor name too long: %.64s...", name);
}

int rf_ckpt_fail_in(const char *path) { return rf_fail_prefix("%s: ", path); }

int rf_ckpt_check_name(const char *fname, const char *name) {
    /* A '/' would nest groups and the name would not come back from a listing. */
    if (!name[0] || strchr(name, '/') || !strcmp(name, "."))
        return rf_fail("%s: tensor name \"%s\" cannot name an HDF5 group", fname, name);
    return RF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Writing */

void rf_ckpt_write_root_attrs(hid_t file, const char *format, const char *config_json,
                              const char *provenance_json) {
    char created[32];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
    rf_h5_attr_str(file, "/", "format", format);
    rf_h5_attr_i64(file, "/", "format_version", RF_FORMAT_VERSION);
    rf_h5_attr_str(file, "/", "config", config_json);
    rf_h5_attr_str(file, "/", "created", created);
    rf_h5_attr_str(file, "/", "version", RF_VERSION);
    if (provenance_json) rf_h5_attr_str(file, "/", "provenance", provenance_json);
}

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

static void write_matrix(hid_t file, const rf_matrix_record *rec) {
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

int rf_shard_write(const char *path, const char *config_json, const rf_matrix_record *rec) {
    if (rf_ckpt_check_name(path, rec->name) != RF_OK) return RF_ERR;
    hid_t file = rf_h5_create_mem(path);
    rf_ckpt_write_root_attrs(file, RF_SHARD_FORMAT, config_json, NULL);
    write_matrix(file, rec);
    return rf_h5_finish(file, path, RF_OK);
}

/* ---------------------------------------------------------------------------------------------
 * Reading. Static readers record messages that name the object; the caller names the file. */

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

/* Reads and checks /matrices/NAME of an open file (named fname in messages): attributes, shapes,
 * codes below K, checksums. stats and device may be NULL. On RF_ERR q holds nothing. */
static int read_matrix(hid_t file, const char *fname, const char *name, rf_aqlm_matrix *q,
                       rf_aqlm_stats *stats, char *device, int device_len) {
    char g[PATH_LEN];
    matrix_path(g, name, NULL);
    int e = rf_h5_exists(file, g);
    if (e == 0) return rf_fail("%s has no %s", fname, g);
    matrix_shape s;
    rf_aqlm_stats st;
    char dev[64];
    /* The attributes first: read_datasets is last so that it alone owns q's cleanup. */
    if (e < 0 || read_shape(file, g, &s) != RF_OK || read_stats(file, g, &st) != RF_OK ||
        read_device(file, g, dev, sizeof dev) != RF_OK || read_datasets(file, name, &s, q) != RF_OK)
        return rf_ckpt_fail_in(fname);
    if (stats) *stats = st;
    if (device) snprintf(device, (size_t)device_len, "%s", dev);
    return RF_OK;
}

int rf_ckpt_check_root(hid_t file, const char *fname, const char *format, const char *config_json) {
    char *got = NULL;
    int64_t version = 0;
    int rc = rf_h5_read_attr_str(file, "/", "format", &got);
    if (rc == RF_OK && strcmp(got, format))
        rc = rf_fail("format is \"%s\", expected \"%s\"", got, format);
    free(got);
    got = NULL;
    if (rc == RF_OK) rc = rf_h5_read_attr_i64(file, "/", "format_version", &version);
    if (rc == RF_OK && version != RF_FORMAT_VERSION)
        rc = rf_fail("format_version is %lld, expected %d", (long long)version, RF_FORMAT_VERSION);
    if (rc == RF_OK) rc = rf_h5_read_attr_str(file, "/", "config", &got);
    if (rc == RF_OK && strcmp(got, config_json)) {
        size_t at = 0;
        while (got[at] && got[at] == config_json[at]) at++;
        rc = rf_fail("written with another configuration (config differs at character %zu)", at);
    }
    free(got);
    return rc == RF_OK ? RF_OK : rf_ckpt_fail_in(fname);
}

int rf_shard_verify(const char *path, const char *name, const char *config_json,
                    rf_aqlm_stats *stats) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = rf_ckpt_check_root(file, path, RF_SHARD_FORMAT, config_json);
    rf_aqlm_matrix q;
    if (rc == RF_OK) rc = read_matrix(file, path, name, &q, stats, NULL, 0);
    if (rc == RF_OK) rf_aqlm_free(&q);
    rf_h5_close(file);
    return rc;
}

int rf_checkpoint_read_matrix(const char *path, const char *name, rf_aqlm_matrix *q,
                              rf_aqlm_stats *stats, char *device, int device_len) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = read_matrix(file, path, name, q, stats, device, device_len);
    rf_h5_close(file);
    return rc;
}

int rf_checkpoint_read_config(const char *path, char **config_json) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = rf_h5_read_attr_str(file, "/", "config", config_json);
    rf_h5_close(file);
    return rc == RF_OK ? RF_OK : rf_ckpt_fail_in(path);
}

/* ---------------------------------------------------------------------------------------------
 * Assembly */

/* Copies the record (/matrices/NAME or /vit/NAME) of shard into dst and reads the copy back.
 * Messages name the shard: the copied chunks are the shard's bytes, checksums and all. */
static int copy_record(hid_t dst, const char *shard, rf_record_kind kind, const char *name,
                       const char *config_json) {
    hid_t src;
    if (rf_h5_open(shard, &src) != RF_OK) return RF_ERR;
    char g[PATH_LEN];
    int len = snprintf(g, sizeof g, "/%s/%s", kind == RF_RECORD_VIT ? "vit" : "matrices", name);
    rf_check(len < PATH_LEN, "tensor name too long: %.64s...", name);
    int rc = rf_ckpt_check_root(src, shard, RF_SHARD_FORMAT, config_json);
    if (rc == RF_OK) {
        int e = rf_h5_exists(src, g);
        if (e <= 0) rc = e < 0 ? rf_ckpt_fail_in(shard) : rf_fail("%s has no %s", shard, g);
    }
    if (rc == RF_OK) {
        herr_t r;
        RF_H5_QUIET(r = H5Ocopy(src, g, dst, g, H5P_DEFAULT, H5P_DEFAULT));
        if (r < 0) rc = rf_fail("%s: %s cannot be copied (corrupt file?)", shard, g);
    }
    rf_h5_close(src);
    if (rc != RF_OK) return rc;
    if (kind == RF_RECORD_VIT) {
        rf_vit_info info;
        return rf_vit_read_group(dst, shard, name, &info, NULL);
    }
    rf_aqlm_matrix q;
    rc = read_matrix(dst, shard, name, &q, NULL, NULL, 0);
    if (rc == RF_OK) rf_aqlm_free(&q);
    return rc;
}

int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds) {
    hid_t file = rf_h5_create_mem(path);
    rf_h5_create_group(file, "/matrices"); /* present even when empty: rf_checkpoint_list needs it */
    for (int i = 0; i < n; i++)
        if (kinds[i] == RF_RECORD_VIT) {
            rf_h5_create_group(file, "/vit");
            break;
        }
    int rc = RF_OK;
    for (int i = 0; i < n && rc == RF_OK; i++)
        if (copy_record(file, shard_paths[i], kinds[i], names[i], config_json) != RF_OK)
            rc = rf_fail_prefix("shard ");
    if (rc == RF_OK) rf_ckpt_write_root_attrs(file, RF_CHECKPOINT_FORMAT, config_json, provenance_json);
    return rf_h5_finish(file, path, rc);
}

/* ---------------------------------------------------------------------------------------------
 * Listing */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_group(hid_t g, const char *group, char ***names, int *n) {
    H5G_info_t info;
    herr_t r;
    RF_H5_QUIET(r = H5Gget_info(g, &info));
    if (r < 0) return rf_fail("%s cannot be read", group);
    char **out = rf_calloc(info.nlinks ? info.nlinks : 1, sizeof *out);
    for (hsize_t i = 0; i < info.nlinks; i++) {
        ssize_t len;
        RF_H5_QUIET(len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0,
                                             H5P_DEFAULT));
        if (len >= 0) {
            out[i] = rf_malloc((size_t)len + 1);
            RF_H5_QUIET(len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, out[i],
                                                 (size_t)len + 1, H5P_DEFAULT));
        }
        if (len < 0) {
            rf_checkpoint_free_names(out, (int)i + 1);
            return rf_fail("%s cannot be read", group);
        }
    }
    /* HDF5's name index orders by its own comparison; sort so callers can rely on strcmp order. */
    qsort(out, info.nlinks, sizeof *out, cmp_str);
    *names = out;
    *n = (int)info.nlinks;
    return RF_OK;
}

static int list_in_file(hid_t file, const char *path, const char *group, int missing_ok,
                        char ***names, int *n) {
    int e = rf_h5_exists(file, group);
    if (e == 0 && missing_ok) {
        *names = NULL;
        *n = 0;
        return RF_OK;
    }
    if (e == 0) return rf_fail("%s has no %s", path, group);
    if (e < 0) return rf_ckpt_fail_in(path);
    hid_t g;
    RF_H5_QUIET(g = H5Gopen2(file, group, H5P_DEFAULT));
    if (g < 0) {
        rf_fail("%s cannot be opened as a group", group);
        return rf_ckpt_fail_in(path);
    }
    int rc = list_group(g, group, names, n);
    RF_H5(H5Gclose(g));
    return rc == RF_OK ? RF_OK : rf_ckpt_fail_in(path);
}

int rf_ckpt_list(const char *path, const char *group, int missing_ok, char ***names, int *n) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = list_in_file(file, path, group, missing_ok, names, n);
    rf_h5_close(file);
    return rc;
}

int rf_checkpoint_list(const char *path, char ***names, int *n) {
    return rf_ckpt_list(path, "/matrices", 0, names, n);
}

void rf_checkpoint_free_names(char **names, int n) {
    if (!names) return;
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
