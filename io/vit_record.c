/* vit_record.c -- /vit/NAME of shards and checkpoints (layout in vit_record.h). Built in memory
 * and written atomically like the /matrices shards (matrix_record.c); every read checks the
 * attributes against the weight's shape and verifies the checksums. */
#include "io/vit_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/h5_util.h"

#define PATH_LEN RF_CONTAINER_PATH_LEN

/* "/vit/NAME", or "/vit/NAME/LEAF" when leaf is given. */
static void vit_path(char *buf, const char *name, const char *leaf) {
    rf_container_record_path(buf, RF_VIT_GROUP, name, leaf);
}

void rf_vit_write_group(hid_t file, const rf_vit_record *rec) {
    const rf_gen_stats *st = rec->stats;
    const rf_gen_result *res = rec->res;
    char g[PATH_LEN], p[PATH_LEN];
    vit_path(g, rec->name, NULL);
    rf_h5_create_group(file, g);
    rf_h5_attr_str(file, g, "method", rf_gen_kind_name(rec->kind));
    rf_h5_attr_str(file, g, "shared_from", rec->shared_from);
    rf_h5_attr_str(file, g, "device", rec->device);
    const struct { const char *name; int64_t value; } ints[] = {
        {"out_features", res->out_features}, {"in_features", res->in_features},
        {"beats_sharing", st->rel_w_err < st->shared_rel_w_err},
        {"beats_baseline", st->rel_w_err < st->baseline_rel_w_err},
        {"qubits", st->qubits}, {"layers", st->layers}, {"params", st->params},
        {"baseline_params", st->baseline_params}, {"steps", st->steps}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        rf_h5_attr_i64(file, g, ints[i].name, ints[i].value);
    const struct { const char *name; double value; } reals[] = {
        {"rel_w_err", st->rel_w_err}, {"shared_rel_w_err", st->shared_rel_w_err},
        {"baseline_rel_w_err", st->baseline_rel_w_err}, {"seconds", st->seconds}};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        rf_h5_attr_f64(file, g, reals[i].name, reals[i].value);

    const hsize_t dims[2] = {(hsize_t)res->out_features, (hsize_t)res->in_features};
    vit_path(p, rec->name, "weight");
    rf_h5_write_dataset(file, p, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, res->weight);
    vit_path(p, rec->name, "generator");
    rf_h5_create_group(file, p);
    for (int t = 0; t < res->ntensors; t++) {
        const rf_gen_tensor *gt = &res->tensors[t];
        hsize_t d[3];
        for (int k = 0; k < gt->ndim; k++) d[k] = (hsize_t)gt->dims[k];
        char leaf[64];
        snprintf(leaf, sizeof leaf, "generator/%s", gt->name);
        vit_path(p, rec->name, leaf);
        rf_h5_write_dataset(file, p, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, gt->ndim, d, gt->data);
    }
}

int rf_vit_shard_write(const char *path, const char *config_json, const rf_vit_record *rec) {
    hid_t file;
    if (rf_container_create_shard(path, config_json, rec->name, &file) != RF_OK) return RF_ERR;
    rf_h5_create_group(file, RF_MATRIX_GROUP); /* every riverforge file has one, maybe empty */
    rf_vit_write_group(file, rec);
    return rf_h5_finish(file, path, RF_OK);
}

static int read_attrs(hid_t file, const char *g, rf_vit_info *info) {
    char *method = NULL, *from = NULL;
    int rc = rf_h5_read_attr_str(file, g, "method", &method);
    rf_gen_kind kind;
    if (rc == RF_OK && rf_gen_kind_parse(method, &kind) != RF_OK)
        rc = rf_fail("%s: method is \"%s\", expected qgp, paramgen or none", g, method);
    if (rc == RF_OK) rc = rf_h5_read_attr_str(file, g, "shared_from", &from);
    if (rc == RF_OK) {
        snprintf(info->method, sizeof info->method, "%s", method);
        snprintf(info->shared_from, sizeof info->shared_from, "%s", from);
    }
    free(method);
    free(from);
    rf_gen_stats *st = &info->stats;
    int64_t beats_sharing = 0, beats_baseline = 0, qubits = 0, layers = 0, steps = 0;
    const struct { const char *name; int64_t *value; } ints[] = {
        {"out_features", &info->out_features}, {"in_features", &info->in_features},
        {"beats_sharing", &beats_sharing}, {"beats_baseline", &beats_baseline},
        {"qubits", &qubits}, {"layers", &layers}, {"params", &st->params},
        {"baseline_params", &st->baseline_params}, {"steps", &steps}};
    for (size_t i = 0; rc == RF_OK && i < sizeof ints / sizeof *ints; i++)
        rc = rf_h5_read_attr_i64(file, g, ints[i].name, ints[i].value);
    const struct { const char *name; double *value; } reals[] = {
        {"rel_w_err", &st->rel_w_err}, {"shared_rel_w_err", &st->shared_rel_w_err},
        {"baseline_rel_w_err", &st->baseline_rel_w_err}, {"seconds", &st->seconds}};
    for (size_t i = 0; rc == RF_OK && i < sizeof reals / sizeof *reals; i++)
        rc = rf_h5_read_attr_f64(file, g, reals[i].name, reals[i].value);
    if (rc == RF_OK && (info->out_features < 1 || info->in_features < 1 ||
                        info->out_features > INT32_MAX || info->in_features > INT32_MAX))
        rc = rf_fail("%s: [%lld, %lld] is not a matrix shape", g, (long long)info->out_features,
                     (long long)info->in_features);
    info->beats_sharing = (int)beats_sharing;
    info->beats_baseline = (int)beats_baseline;
    st->qubits = (int)qubits;
    st->layers = (int)layers;
    st->steps = (int)steps;
    return rc;
}

/* Opens name (relative to loc), checks it is float32 and, when dims is not NULL, of shape
 * dims[rank]; then reads it -- this verifies the checksums -- into *out (malloc'd), or into a
 * scratch buffer when out is NULL. Nothing is allocated before the shape is known to agree, so a
 * damaged header cannot ask for a huge buffer. */
static int read_f32(hid_t loc, const char *name, int rank, const hsize_t *dims, float **out) {
    hid_t d;
    if (rf_h5_open_dataset(loc, name, &d) != RF_OK) return RF_ERR;
    hsize_t got[4];
    char got_s[128], want_s[128];
    hid_t t = RF_H5(H5Dget_type(d));
    int is_f32 = (int)RF_H5(H5Tequal(t, H5T_IEEE_F32LE));
    RF_H5(H5Tclose(t));
    int got_rank = rf_h5_dataset_rank(d, got, 4);
    int rc = RF_OK;
    if (!is_f32) rc = rf_fail("%s is not float32", name);
    else if (got_rank < 0 || got_rank > 4) rc = rf_fail("%s has %d dimensions", name, got_rank);
    else if (dims && (got_rank != rank || memcmp(got, dims, (size_t)rank * sizeof *dims)))
        rc = rf_fail("%s is %s, expected %s", name, rf_h5_shape_str(got, got_rank, got_s, sizeof got_s),
                     rf_h5_shape_str(dims, rank, want_s, sizeof want_s));
    if (rc == RF_OK) {
        size_t n = 1;
        for (int k = 0; k < got_rank; k++) n *= got[k];
        float *buf = rf_malloc(n * sizeof *buf);
        rc = rf_h5_read_dataset(d, H5T_NATIVE_FLOAT, buf);
        if (rc == RF_OK && out) *out = buf;
        else free(buf);
    }
    RF_H5(H5Dclose(d));
    return rc;
}

/* Every dataset under generator/ reads back; counts them. */
static int read_generator(hid_t file, const char *name, int *count) {
    char p[PATH_LEN];
    vit_path(p, name, "generator");
    hid_t g;
    RF_H5_QUIET(g = H5Gopen2(file, p, H5P_DEFAULT));
    if (g < 0) return rf_fail("%s is missing or not a group", p);
    H5G_info_t gi;
    int rc = H5Gget_info(g, &gi) < 0 ? rf_fail("%s cannot be read", p) : RF_OK;
    for (hsize_t i = 0; rc == RF_OK && i < gi.nlinks; i++) {
        char leaf[256];
        ssize_t len;
        RF_H5_QUIET(len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, leaf,
                                             sizeof leaf, H5P_DEFAULT));
        rc = len < 0 || len >= (ssize_t)sizeof leaf ? rf_fail("%s cannot be read", p)
                                                     : read_f32(g, leaf, 0, NULL, NULL);
        if (rc != RF_OK) rf_fail_prefix("%s/", p);
    }
    RF_H5(H5Gclose(g));
    *count = (int)gi.nlinks;
    return rc;
}

int rf_vit_read_group(hid_t file, const char *fname, const char *name, rf_vit_info *info,
                      float **weight) {
    char g[PATH_LEN], p[PATH_LEN];
    vit_path(g, name, NULL);
    int e = rf_h5_exists(file, g);
    if (e == 0) return rf_fail("%s has no %s", fname, g);
    memset(info, 0, sizeof *info);
    if (e < 0 || read_attrs(file, g, info) != RF_OK) return rf_container_fail_in(fname);
    const hsize_t dims[2] = {(hsize_t)info->out_features, (hsize_t)info->in_features};
    float *w = NULL;
    vit_path(p, name, "weight");
    int rc = read_f32(file, p, 2, dims, weight ? &w : NULL);
    if (rc == RF_OK) rc = read_generator(file, name, &info->ngenerator);
    if (rc == RF_OK && weight) *weight = w;
    else free(w);
    return rc == RF_OK ? RF_OK : rf_container_fail_in(fname);
}

int rf_vit_shard_verify(const char *path, const char *name, const char *config_json,
                        rf_gen_stats *stats) {
    hid_t file;
    if (rf_container_open_shard(path, config_json, &file) != RF_OK) return RF_ERR;
    rf_vit_info info;
    int rc = rf_vit_read_group(file, path, name, &info, NULL);
    if (rc == RF_OK && stats) *stats = info.stats;
    rf_h5_close(file);
    return rc;
}

int rf_vit_read(const char *path, const char *name, rf_vit_info *info, float **weight) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = rf_vit_read_group(file, path, name, info, weight);
    rf_h5_close(file);
    return rc;
}

int rf_vit_list(const char *path, char ***names, int *n) {
    return rf_container_list(path, RF_VIT_GROUP, 1, names, n);
}
