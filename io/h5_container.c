/* h5_container.c -- the root attributes, record names and listings of every riverforge HDF5
 * file (layout in h5_container.h). */
#include "io/h5_container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "io/h5_util.h"
#include "io/image_checksum.h"

/* ---------------------------------------------------------------------------------------------
 * The root */

void rf_container_write_root(hid_t file, const char *format, const char *config_json,
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

int rf_container_check_root(hid_t file, const char *fname, const char *format,
                            const char *config_json) {
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
    return rc == RF_OK ? RF_OK : rf_container_fail_in(fname);
}

int rf_container_read_config(const char *path, char **config_json) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = rf_h5_read_attr_str(file, "/", "config", config_json);
    rf_h5_close(file);
    return rc == RF_OK ? RF_OK : rf_container_fail_in(path);
}

/* ---------------------------------------------------------------------------------------------
 * Records and messages */

int rf_container_check_name(const char *fname, const char *name) {
    /* A '/' would nest groups and the name would not come back from a listing. */
    if (!name[0] || strchr(name, '/') || !strcmp(name, "."))
        return rf_fail("%s: tensor name \"%s\" cannot name an HDF5 group", fname, name);
    return RF_OK;
}

void rf_container_record_path(char *buf, const char *group, const char *name, const char *leaf) {
    int n = leaf ? snprintf(buf, RF_CONTAINER_PATH_LEN, "%s/%s/%s", group, name, leaf)
                 : snprintf(buf, RF_CONTAINER_PATH_LEN, "%s/%s", group, name);
    rf_check(n < RF_CONTAINER_PATH_LEN, "tensor name too long: %.64s...", name);
}

int rf_container_fail_in(const char *fname) { return rf_fail_prefix("%s: ", fname); }

/* ---------------------------------------------------------------------------------------------
 * Shards */

int rf_container_create_shard(const char *path, const char *config_json, const char *name,
                              hid_t *file) {
    if (rf_container_check_name(path, name) != RF_OK) return RF_ERR;
    *file = rf_h5_create_mem(path);
    rf_container_write_root(*file, RF_SHARD_FORMAT, config_json, NULL);
    return RF_OK;
}

int rf_container_open_shard(const char *path, const char *config_json, hid_t *file) {
    /* Before HDF5 sees the bytes: HDF5 may hang or crash on a damaged file. */
    if (rf_image_check(path, 1) != RF_OK || rf_h5_open(path, file) != RF_OK) return RF_ERR;
    if (rf_container_check_root(*file, path, RF_SHARD_FORMAT, config_json) == RF_OK) return RF_OK;
    rf_h5_close(*file);
    return RF_ERR;
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
            rf_container_free_names(out, (int)i + 1);
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
    if (e < 0) return rf_container_fail_in(path);
    hid_t g;
    RF_H5_QUIET(g = H5Gopen2(file, group, H5P_DEFAULT));
    if (g < 0) {
        rf_fail("%s cannot be opened as a group", group);
        return rf_container_fail_in(path);
    }
    int rc = list_group(g, group, names, n);
    RF_H5(H5Gclose(g));
    return rc == RF_OK ? RF_OK : rf_container_fail_in(path);
}

int rf_container_list(const char *path, const char *group, int missing_ok, char ***names, int *n) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    int rc = list_in_file(file, path, group, missing_ok, names, n);
    rf_h5_close(file);
    return rc;
}

void rf_container_free_names(char **names, int n) {
    if (!names) return;
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
