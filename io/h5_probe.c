/* h5_probe.c -- checking a user's HDF5 file in a child process (h5_probe.h). */
#include "io/h5_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/child_process.h"
#include "io/h5_util.h"
#include "io/image_checksum.h"

#define BASE_LIMIT_S 60.0
#define READ_RATE 25e6 /* bytes/s the limit allows for reading the data: a slow parallel FS */
#define MAX_RANK 32    /* HDF5's own limit */

int rf_h5_probe(const char *path, const char *object, int read_data) {
    struct stat st;
    if (stat(path, &st) != 0) return rf_fail("%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return rf_fail("%s: not a regular file", path); /* a FIFO: no wait */
    /* Only a warning: other tools (h5py in place, h5repack) rewrite files and keep a stale line. */
    if (rf_image_check(path, 0) != RF_OK)
        rf_warn("%s; changed since riverforge wrote it: reading it anyway", rf_last_error());
    const double limit = BASE_LIMIT_S + (read_data ? (double)st.st_size / READ_RATE : 0);
    char *argv[] = {"/proc/self/exe", "inspect", "--check", (char *)path, (char *)object,
                    read_data ? "data" : "layout", NULL};
    return rf_child_run(argv, path, limit);
}

/* ---------------------------------------------------------------------------------------------
 * The child's side. Callbacks record their message and stop the iteration. */

typedef struct {
    const char *path, *object;
    int read_data;
    haddr_t base;        /* the user block's size: HDF5 addresses start after it */
    unsigned long long size;
    int failed;
} check_ctx;

/* Reads the open attribute a whole, strings included; RF_ERR when HDF5 cannot. */
static int read_attr(hid_t a) {
    hid_t t, mt = H5I_INVALID_HID, space;
    herr_t r = -1;
    RF_H5_QUIET(t = H5Aget_type(a); space = H5Aget_space(a);
                if (t >= 0) mt = H5Tget_class(t) == H5T_STRING
                                     ? H5Tcopy(t) : H5Tget_native_type(t, H5T_DIR_ASCEND));
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    size_t tsize = mt >= 0 ? H5Tget_size(mt) : 0;
    if (npoints >= 0 && tsize > 0 && (size_t)npoints < ((size_t)1 << 32) / tsize) {
        void *buf = rf_calloc((size_t)npoints + 1, tsize);
        /* Variable-length values (strings) are allocated by HDF5 and given back here. */
        RF_H5_QUIET(r = H5Aread(a, mt, buf);
                    if (r >= 0 && (H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0))
                        r = H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf));
        free(buf);
    }
    RF_H5_QUIET(H5Tclose(mt); H5Tclose(t); H5Sclose(space));
    return r < 0 ? RF_ERR : RF_OK;
}

/* H5Aiterate2 callback: attribute name of loc; op is the object's name, for messages. */
static herr_t check_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
    (void)info;
    hid_t a;
    RF_H5_QUIET(a = H5Aopen(loc, name, H5P_DEFAULT));
    int rc = a >= 0 ? read_attr(a) : RF_ERR;
    if (a >= 0) RF_H5_QUIET(H5Aclose(a));
    if (rc == RF_OK) return 0;
    rf_fail("attribute %s of %s cannot be read", name, (const char *)op);
    return -1;
}

static int check_attrs(hid_t obj, const char *name) {
    herr_t r;
    rf_fail("the attributes of %s cannot be read", name); /* unless check_attr says more */
    RF_H5_QUIET(r = H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, check_attr, (void *)name));
    return r < 0 ? RF_ERR : RF_OK;
}

/* Bytes [addr, addr + n) of the HDF5 address space lie inside the file. */
static int inside(const check_ctx *c, haddr_t addr, unsigned long long n) {
    return addr != HADDR_UNDEF && c->base + addr <= c->size && n <= c->size - (c->base + addr);
}

/* Every chunk of d is stored and inside the file. */
static int check_chunks(const check_ctx *c, hid_t d, hid_t dcpl, hid_t space, const char *name) {
    hsize_t dims[MAX_RANK], chunk[MAX_RANK], at[MAX_RANK] = {0};
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    if (rank < 0 || H5Pget_chunk(dcpl, MAX_RANK, chunk) != rank)
        return rf_fail("%s: the chunking of %s cannot be read", c->path, name);
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0) return RF_OK;
    for (;;) {
        unsigned mask;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        herr_t r;
        RF_H5_QUIET(r = H5Dget_chunk_info_by_coord(d, at, &mask, &addr, &size));
        if (r < 0 || addr == HADDR_UNDEF)
            return rf_fail("%s: %s has a chunk that is not stored (damaged, or never written)",
                           c->path, name);
        if (!inside(c, addr, size))
            return rf_fail("%s: a chunk of %s lies beyond the end of the file (truncated or "
                           "damaged)", c->path, name);
        int k = rank - 1;
        while (k >= 0 && (at[k] += chunk[k]) >= dims[k]) at[k--] = 0;
        if (k < 0) return RF_OK;
    }
}

/* Where the data of d lies (and with read_data, the data itself). */
static int check_dataset(const check_ctx *c, hid_t d, const char *name) {
    hid_t t, space, dcpl;
    RF_H5_QUIET(t = H5Dget_type(d); space = H5Dget_space(d); dcpl = H5Dget_create_plist(d));
    int rc = RF_OK;
    if (t < 0 || space < 0 || dcpl < 0)
        rc = rf_fail("%s: the type, shape or layout of %s cannot be read", c->path, name);
    hssize_t npoints = rc == RF_OK ? H5Sget_simple_extent_npoints(space) : -1;
    size_t tsize = rc == RF_OK ? H5Tget_size(t) : 0;
    if (rc == RF_OK && (npoints < 0 || tsize == 0))
        rc = rf_fail("%s: the shape of %s cannot be read", c->path, name);
    H5D_layout_t layout = rc == RF_OK ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (rc == RF_OK && layout == H5D_CONTIGUOUS && npoints > 0 &&
        !inside(c, H5Dget_offset(d), (unsigned long long)npoints * tsize))
        rc = rf_fail("%s: the data of %s is not stored inside the file (truncated or damaged)",
                     c->path, name);
    if (rc == RF_OK && layout == H5D_CHUNKED) rc = check_chunks(c, d, dcpl, space, name);
    if (rc == RF_OK && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED && layout != H5D_COMPACT)
        rc = rf_fail("%s: %s has a layout riverforge does not read", c->path, name);
    H5T_class_t cls = rc == RF_OK ? H5Tget_class(t) : H5T_NO_CLASS;
    if (rc == RF_OK && c->read_data && (cls == H5T_INTEGER || cls == H5T_FLOAT)) {
        hid_t mt = RF_H5(H5Tget_native_type(t, H5T_DIR_ASCEND));
        void *buf = rf_malloc((size_t)npoints * H5Tget_size(mt) + 1);
        if (rf_h5_read_dataset(d, mt, buf) != RF_OK) rc = rf_fail_prefix("%s: ", c->path);
        free(buf);
        RF_H5(H5Tclose(mt));
    }
    RF_H5_QUIET(if (dcpl >= 0) H5Pclose(dcpl); if (space >= 0) H5Sclose(space);
                if (t >= 0) H5Tclose(t));
    return rc;
}

/* H5Ovisit2 callback: one object below the start (name is relative to it). */
static herr_t check_object(hid_t loc, const char *rel, const H5O_info_t *info, void *op) {
    check_ctx *c = op;
    char name[4096]; /* absolute, for messages */
    if (!strcmp(rel, ".")) snprintf(name, sizeof name, "%s", c->object);
    else snprintf(name, sizeof name, "%s/%s", strcmp(c->object, "/") ? c->object : "", rel);
    hid_t obj;
    RF_H5_QUIET(obj = H5Oopen(loc, rel, H5P_DEFAULT));
    int rc = obj < 0 ? rf_fail("%s: %s cannot be opened", c->path, name) : RF_OK;
    if (rc == RF_OK && check_attrs(obj, name) != RF_OK) rc = rf_fail_prefix("%s: ", c->path);
    if (rc == RF_OK && info->type == H5O_TYPE_DATASET) rc = check_dataset(c, obj, name);
    if (obj >= 0) RF_H5_QUIET(H5Oclose(obj));
    c->failed = rc != RF_OK;
    return rc == RF_OK ? 0 : -1;
}

int rf_h5_check_file(const char *path, const char *object, int read_data) {
    struct stat st;
    hid_t file, fcpl;
    if (stat(path, &st) != 0) return rf_fail("%s: %s", path, strerror(errno));
    if (rf_h5_open(path, &file) != RF_OK) return RF_ERR;
    check_ctx c = {.path = path, .object = object, .read_data = read_data,
                   .size = (unsigned long long)st.st_size};
    hsize_t ub = 0;
    RF_H5_QUIET(fcpl = H5Fget_create_plist(file); if (fcpl >= 0) H5Pget_userblock(fcpl, &ub);
                if (fcpl >= 0) H5Pclose(fcpl));
    c.base = ub;
    /* A missing object is the parent's to report, in its own words: nothing to read here. */
    int e = strcmp(object, "/") ? rf_h5_exists(file, object) : 1;
    int rc = e < 0 ? rf_fail_prefix("%s: ", path) : RF_OK;
    herr_t r = 0;
    if (e == 1)
        RF_H5_QUIET(r = H5Ovisit_by_name2(file, object, H5_INDEX_NAME, H5_ITER_INC, check_object,
                                          &c, H5O_INFO_BASIC, H5P_DEFAULT));
    if (rc == RF_OK && r < 0)
        rc = c.failed ? RF_ERR : rf_fail("%s: the objects below %s cannot be read", path, object);
    rf_h5_close(file);
    return rc;
}
