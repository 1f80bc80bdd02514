/* xtx_file.c -- calibration statistics files (format in xtx_file.h).
 *
 *   /xtx/NAME   float32 or float64 [in, in], attribute nsamples (int64; 0 when absent)
 *
 * Reading converts to float32 and rejects what would silently spoil a quantization: a wrong
 * shape, a non-float type, a NaN/Inf, or a matrix that is not symmetric (to 1e-4 of its largest
 * entry: XTX computed in float32 by a GEMM may differ in the last bits across the diagonal).
 * A user's file is read in a child process first (rf_xtx_probe, io/h5_probe.h): its /xtx
 * group's metadata and data extents, so that HDF5 cannot crash or hang the job on a damaged one.
 * Writing uses float64, chunked with Fletcher32 like every riverforge dataset, stores a matrix
 * shared by several names once (hard links), and builds the file in memory before writing it
 * atomically (h5_util.h); calibrate's output, too large for that, goes through rf_xtx_writer,
 * which builds the same file on disk (the same HDF5 calls in the same order: the same bytes).
 */
#include "io/xtx_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "io/h5_container.h"
#include "io/h5_probe.h"
#include "io/h5_util.h"
#include "io/image_checksum.h"
#include "io/atomic_file.h"

#define PATH_LEN 4096
#define SYMMETRY_TOL 1e-4
#define SAMPLE_VALUES 1024 /* per sampled row of the fingerprint */

struct rf_xtx_file {
    hid_t file;
    char *path;
};

static void xtx_path(char *buf, const char *name) {
    rf_check(snprintf(buf, PATH_LEN, "/xtx/%s", name) < PATH_LEN, "name too long: %.64s...",
             name);
}

int rf_xtx_probe(const char *path) { return rf_h5_probe(path, "/xtx", 0); }

int rf_xtx_open(rf_xtx_file **f, const char *path) {
    hid_t file;
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    *f = rf_malloc(sizeof **f);
    (*f)->file = file;
    (*f)->path = rf_strdup(path);
    return RF_OK;
}

void rf_xtx_close(rf_xtx_file *f) {
    if (!f) return;
    rf_h5_close(f->file);
    free(f->path);
    free(f);
}

int rf_xtx_has(rf_xtx_file *f, const char *name) {
    char p[PATH_LEN];
    xtx_path(p, name);
    return rf_h5_exists(f->file, p) == 1;
}

/* First NaN/Inf, then symmetry, walking n x n in tiles so that the transposed reads stay in
 * cache. Messages name the dataset p. */
static int check_values(const char *p, const float *a, int64_t n) {
    float amax = 0;
    for (int64_t i = 0; i < n * n; i++) {
        if (!isfinite(a[i]))
            return rf_fail("%s has a non-finite value (%g) at [%lld, %lld]", p, a[i],
                           (long long)(i / n), (long long)(i % n));
        amax = fmaxf(amax, fabsf(a[i]));
    }
    const int64_t T = 32;
    for (int64_t i0 = 0; i0 < n; i0 += T)
        for (int64_t j0 = i0; j0 < n; j0 += T)
            for (int64_t i = i0; i < i0 + T && i < n; i++)
                for (int64_t j = j0 > i ? j0 : i + 1; j < j0 + T && j < n; j++)
                    if (fabsf(a[i * n + j] - a[j * n + i]) > SYMMETRY_TOL * amax)
                        return rf_fail("%s is not symmetric: [%lld, %lld] = %g but [%lld, %lld] = %g",
                                       p, (long long)i, (long long)j, a[i * n + j], (long long)j,
                                       (long long)i, a[j * n + i]);
    return RF_OK;
}

/* Type and shape of the open dataset d (path p, matrix name). */
static int check_type_shape(hid_t d, const char *p, const char *name, int64_t in) {
    hid_t t = RF_H5(H5Dget_type(d));
    H5T_class_t cls = H5Tget_class(t);
    RF_H5(H5Tclose(t));
    if (cls != H5T_FLOAT) return rf_fail("%s is not floating point", p);
    hsize_t dims[2], want[2] = {(hsize_t)in, (hsize_t)in};
    int rank = rf_h5_dataset_rank(d, dims, 2);
    if (rank != 2 || dims[0] != want[0] || dims[1] != want[1]) {
        char got_s[64], want_s[64];
        return rf_fail("%s is %s, expected %s for in_features of %s", p,
                       rank <= 2 ? rf_h5_shape_str(dims, rank, got_s, sizeof got_s) : "rank > 2",
                       rf_h5_shape_str(want, 2, want_s, sizeof want_s), name);
    }
    return RF_OK;
}

/* Type, shape, values and nsamples of the open dataset d (path p, matrix name). */
static int read_checked(hid_t d, const char *p, const char *name, int64_t in, float *xtx,
                        int64_t *nsamples) {
    if (check_type_shape(d, p, name, in) != RF_OK) return RF_ERR;
    if (rf_h5_read_dataset(d, H5T_NATIVE_FLOAT, xtx) != RF_OK) return RF_ERR;
    if (check_values(p, xtx, in) != RF_OK) return RF_ERR;
    int64_t ns = 0;
    if (rf_h5_has_attr(d, ".", "nsamples") && rf_h5_read_attr_i64(d, ".", "nsamples", &ns) != RF_OK)
        return RF_ERR;
    if (nsamples) *nsamples = ns;
    return RF_OK;
}

/* Opens /xtx/NAME (p receives its path): RF_ERR "FILE has no /xtx/NAME" when it is missing. */
static int open_xtx(rf_xtx_file *f, const char *name, char *p, hid_t *d) {
    xtx_path(p, name);
    int e = rf_h5_exists(f->file, p);
    if (e == 0) return rf_fail("%s has no %s", f->path, p);
    if (e < 0 || rf_h5_open_dataset(f->file, p, d) != RF_OK)
        return rf_fail_prefix("%s: ", f->path);
    return RF_OK;
}

int rf_xtx_check(rf_xtx_file *f, const char *name, int64_t in_features) {
    char p[PATH_LEN];
    hid_t d;
    if (open_xtx(f, name, p, &d) != RF_OK) return RF_ERR;
    int rc = check_type_shape(d, p, name, in_features);
    RF_H5(H5Dclose(d));
    return rc == RF_OK ? RF_OK : rf_fail_prefix("%s: ", f->path);
}

int rf_xtx_read(rf_xtx_file *f, const char *name, int64_t in_features, float *xtx,
                int64_t *nsamples) {
    rf_check(in_features > 0, "rf_xtx_read: in_features %lld", (long long)in_features);
    char p[PATH_LEN];
    hid_t d;
    if (open_xtx(f, name, p, &d) != RF_OK) return RF_ERR;
    int rc = read_checked(d, p, name, in_features, xtx, nsamples);
    RF_H5(H5Dclose(d));
    return rc == RF_OK ? RF_OK : rf_fail_prefix("%s: ", f->path);
}

/* The fingerprint of one dataset, into h: type, shape, nsamples, and for a float matrix up to
 * SAMPLE_VALUES values of its first, middle and last rows. */
static int hash_dataset(hid_t d, const char *p, uint64_t *h) {
    hid_t t = RF_H5(H5Dget_type(d));
    const int64_t type[3] = {H5Tget_class(t), (int64_t)H5Tget_size(t), H5Tget_order(t)};
    RF_H5(H5Tclose(t));
    hsize_t dims[2] = {0, 0};
    int rank = rf_h5_dataset_rank(d, dims, 2);
    int64_t ns = -1;
    if (rf_h5_has_attr(d, ".", "nsamples") && rf_h5_read_attr_i64(d, ".", "nsamples", &ns) != RF_OK)
        return RF_ERR;
    *h = rf_hash_bytes(*h, type, sizeof type);
    *h = rf_hash_bytes(*h, &rank, sizeof rank);
    *h = rf_hash_bytes(*h, dims, sizeof dims);
    *h = rf_hash_bytes(*h, &ns, sizeof ns);
    if (rank != 2 || type[0] != H5T_FLOAT || dims[0] == 0 || dims[1] == 0) return RF_OK;
    const hsize_t rows[3] = {0, dims[0] / 2, dims[0] - 1};
    const hsize_t count[2] = {1, dims[1] < SAMPLE_VALUES ? dims[1] : SAMPLE_VALUES};
    double values[SAMPLE_VALUES];
    hid_t mem = RF_H5(H5Screate_simple(2, count, NULL));
    hid_t space = RF_H5(H5Dget_space(d));
    int rc = RF_OK;
    for (int i = 0; i < 3 && rc == RF_OK; i++) {
        const hsize_t start[2] = {rows[i], 0};
        RF_H5(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL));
        herr_t r;
        RF_H5_QUIET(r = H5Dread(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, values));
        if (r < 0) rc = rf_fail("%s cannot be read (damaged file?)", p);
        else *h = rf_hash_bytes(*h, values, count[1] * sizeof *values);
    }
    RF_H5(H5Sclose(space));
    RF_H5(H5Sclose(mem));
    return rc;
}

int rf_xtx_fingerprint(rf_xtx_file *f, char out[17]) {
    char **names = NULL;
    int n = 0;
    if (rf_container_list(f->path, "/xtx", 0, &names, &n) != RF_OK) return RF_ERR;
    uint64_t h = RF_HASH_INIT;
    int rc = RF_OK;
    for (int i = 0; i < n && rc == RF_OK; i++) {
        char p[PATH_LEN];
        hid_t d;
        h = rf_hash_bytes(h, names[i], strlen(names[i]) + 1);
        rc = open_xtx(f, names[i], p, &d);
        if (rc == RF_OK) {
            rc = hash_dataset(d, p, &h);
            RF_H5(H5Dclose(d));
            if (rc != RF_OK) rf_fail_prefix("%s: ", f->path);
        }
    }
    rf_container_free_names(names, n);
    if (rc == RF_OK) snprintf(out, 17, "%016llx", (unsigned long long)h);
    return rc;
}

/* Writes the n entries into file: a matrix whose pointer equals an earlier entry's becomes a hard
 * link to that entry's dataset. */
static void put_entries(hid_t file, int n, const char *const *names, const double *const *xtx,
                        const int64_t *in, int64_t nsamples) {
    for (int i = 0; i < n; i++) {
        char p[PATH_LEN], first[PATH_LEN];
        xtx_path(p, names[i]);
        int j = 0;
        while (xtx[j] != xtx[i]) j++;
        if (j < i) {
            /* Same input, same statistics: one dataset, one more name. */
            rf_check(in[j] == in[i], "%s and %s share XTX but not in_features", names[j],
                     names[i]);
            xtx_path(first, names[j]);
            rf_h5_link(file, first, p);
            continue;
        }
        const hsize_t dims[2] = {(hsize_t)in[i], (hsize_t)in[i]};
        rf_h5_write_dataset(file, p, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, xtx[i]);
        rf_h5_attr_i64(file, p, "nsamples", nsamples);
    }
}

int rf_xtx_write(const char *path, int n, const char *const *names, const double *const *xtx,
                 const int64_t *in, int64_t nsamples) {
    hid_t file = rf_h5_create_mem(path);
    put_entries(file, n, names, xtx, in, nsamples);
    return rf_h5_finish(file, path, RF_OK);
}

struct rf_xtx_writer {
    hid_t file;
    char path[PATH_LEN], tmp[PATH_LEN];
};

int rf_xtx_writer_create(rf_xtx_writer **w, const char *path, int64_t bytes) {
    *w = rf_calloc(1, sizeof **w);
    if (snprintf((*w)->tmp, PATH_LEN, "%s.tmp", path) >= PATH_LEN)
        return free(*w), rf_fail("%s: path too long", path);
    snprintf((*w)->path, PATH_LEN, "%s", path);
    /* The datasets, and per dataset its chunk index, header and attribute, with room to spare. */
    if (rf_h5_create_reserved((*w)->tmp, bytes + (1 << 20), &(*w)->file) != RF_OK)
        return free(*w), rf_fail_prefix("%s: ", path);
    return RF_OK;
}

void rf_xtx_writer_add(rf_xtx_writer *w, int n, const char *const *names,
                       const double *const *xtx, const int64_t *in, int64_t nsamples) {
    put_entries(w->file, n, names, xtx, in, nsamples);
}

int rf_xtx_writer_finish(rf_xtx_writer *w, int status) {
    if (status != RF_OK) {
        RF_H5(H5Fclose(w->file));
        unlink(w->tmp);
        free(w);
        return RF_ERR;
    }
    int rc = rf_h5_close_trimmed(w->file, w->tmp);
    if (rc == RF_OK && rf_image_header_write(w->tmp) != RF_OK) {
        unlink(w->tmp);
        rc = RF_ERR;
    }
    if (rc == RF_OK) rc = rf_atomic_commit(w->tmp, w->path);
    if (rc != RF_OK) rf_fail_prefix("%s: ", w->path);
    free(w);
    return rc;
}

int rf_xtx_read_f64(rf_xtx_file *f, const char *name, int64_t in_features, double *xtx) {
    char p[PATH_LEN];
    hid_t d;
    if (open_xtx(f, name, p, &d) != RF_OK) return RF_ERR;
    int rc = check_type_shape(d, p, name, in_features);
    if (rc == RF_OK) rc = rf_h5_read_dataset(d, H5T_NATIVE_DOUBLE, xtx);
    RF_H5(H5Dclose(d));
    return rc == RF_OK ? RF_OK : rf_fail_prefix("%s: ", f->path);
}
