/* h5_util.c -- see h5_util.h. */
#include "io/h5_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/image_checksum.h"

#define MAX_RANK 8
#define CHUNK_BYTES (1u << 20)
#define MEM_INCREMENT (4u << 20)  /* growth step of an in-memory file */
#define METADATA_CACHE_BYTES ((size_t)1 << 20)

hid_t rf_h5_fp16(void) {
    static hid_t fp16 = H5I_INVALID_HID;
    if (fp16 < 0) {
        /* The same recipe as h5py's IEEE_F16LE, so h5py reads these datasets as numpy float16. */
        hid_t t = RF_H5(H5Tcopy(H5T_IEEE_F32LE));
        RF_H5(H5Tset_fields(t, 15, 10, 5, 0, 10));
        RF_H5(H5Tset_size(t, 2));
        RF_H5(H5Tset_precision(t, 16));
        RF_H5(H5Tset_ebias(t, 15));
        fp16 = t;
    }
    return fp16;
}

static hid_t fapl_new(void) {
    hid_t fapl = RF_H5(H5Pcreate(H5P_FILE_ACCESS));
    /* Closing the file closes everything still open in it: error paths need no per-object undo. */
    RF_H5(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
    /* Files are renamed into place whole and never modified: readers need no lock, and locks
     * fail on Lustre/NFS mounts without flock. */
    RF_H5(H5Pset_file_locking(fapl, 0, 1));
    return fapl;
}

/* Link creation: make the groups above a new object, names in UTF-8. */
static hid_t lcpl_new(void) {
    hid_t lcpl = RF_H5(H5Pcreate(H5P_LINK_CREATE));
    RF_H5(H5Pset_create_intermediate_group(lcpl, 1));
    RF_H5(H5Pset_char_encoding(lcpl, H5T_CSET_UTF8));
    return lcpl;
}

int rf_h5_open(const char *path, hid_t *file) {
    struct stat st;
    if (stat(path, &st) != 0) return rf_fail("%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return rf_fail("%s: not a regular file", path);
    hid_t fapl = fapl_new(), f;
    RF_H5_QUIET(f = H5Fopen(path, H5F_ACC_RDONLY, fapl));
    RF_H5(H5Pclose(fapl));
    if (f < 0) return rf_fail("%s: not a readable HDF5 file (truncated or corrupt?)", path);
    *file = f;
    return RF_OK;
}

void rf_h5_close(hid_t file) { RF_H5(H5Fclose(file)); }

hid_t rf_h5_create_mem(const char *path) {
    hid_t fapl = RF_H5(H5Pcreate(H5P_FILE_ACCESS));
    RF_H5(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
    RF_H5(H5Pset_fapl_core(fapl, MEM_INCREMENT, 0)); /* no backing store: never touches PATH */
    /* Room for the image checksum in front of the superblock (image_checksum.h). */
    hid_t fcpl = RF_H5(H5Pcreate(H5P_FILE_CREATE));
    RF_H5(H5Pset_userblock(fcpl, RF_IMAGE_HEADER_BYTES));
    hid_t f = RF_H5(H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl));
    RF_H5(H5Pclose(fcpl));
    RF_H5(H5Pclose(fapl));
    return f;
}

int rf_h5_finish(hid_t file, const char *path, int status) {
    if (status != RF_OK) {
        RF_H5(H5Fclose(file));
        return rf_fail_prefix("%s: ", path);
    }
    /* Without this flush the image still holds metadata at temporary addresses and does not
     * open (H5Fget_file_image's own flush is not enough in HDF5 1.10.8). */
    RF_H5(H5Fflush(file, H5F_SCOPE_GLOBAL));
    ssize_t size = RF_H5(H5Fget_file_image(file, NULL, 0));
    void *image = rf_malloc((size_t)size);
    RF_H5(H5Fget_file_image(file, image, (size_t)size));
    RF_H5(H5Fclose(file));
    /* The core driver's image leaves the user block out: the header goes in front of it, and
     * both reach PATH in one atomic write. */
    char header[RF_IMAGE_HEADER_BYTES];
    rf_image_header_fill(header, image, (size_t)size);
    const void *parts[2] = {header, image};
    const size_t sizes[2] = {sizeof header, (size_t)size};
    int rc = rf_atomic_write(path, 2, parts, sizes);
    free(image);
    return rc;
}

/* Allocates the first `bytes` of file tmp (creating it); RF_ERR naming it and the reason, tmp
 * removed. */
static int reserve(const char *tmp, off_t bytes) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return rf_fail("cannot create %s: %s", tmp, strerror(errno));
    int e = posix_fallocate(fd, 0, bytes);
    if (close(fd) != 0 && e == 0) e = errno;
    if (e == 0) return RF_OK;
    unlink(tmp);
    return rf_fail("cannot reserve %.1f MiB in %s: %s", (double)bytes / (1 << 20), tmp,
                   strerror(e));
}

/* File access for a file built on disk: HDF5's default driver (sec2, straight to disk), no lock (the file
 * is renamed into place whole, and locks fail on Lustre/NFS without flock), everything still open
 * closed with the file (error paths need no per-object undo), and a metadata cache fixed at 1 MiB:
 * each object is written once and read back right after, so a larger cache (HDF5 lets it grow to
 * 32 MiB) buys nothing. */
static hid_t assembly_fapl(void) {
    hid_t fapl = RF_H5(H5Pcreate(H5P_FILE_ACCESS));
    RF_H5(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG));
    RF_H5(H5Pset_file_locking(fapl, 0, 1));
    H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    RF_H5(H5Pget_mdc_config(fapl, &mdc));
    mdc.set_initial_size = 1;
    mdc.initial_size = mdc.min_size = mdc.max_size = METADATA_CACHE_BYTES;
    mdc.incr_mode = H5C_incr__off;
    mdc.flash_incr_mode = H5C_flash_incr__off;
    mdc.decr_mode = H5C_decr__off;
    RF_H5(H5Pset_mdc_config(fapl, &mdc));
    return fapl;
}

int rf_h5_create_reserved(const char *tmp, int64_t bytes, hid_t *file) {
    if (reserve(tmp, bytes) != RF_OK) return RF_ERR;
    hid_t fapl = assembly_fapl(), fcpl = RF_H5(H5Pcreate(H5P_FILE_CREATE));
    RF_H5(H5Pset_userblock(fcpl, RF_IMAGE_HEADER_BYTES)); /* for the image checksum */
    *file = RF_H5(H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl));
    RF_H5(H5Pclose(fcpl));
    RF_H5(H5Pclose(fapl));
    if (reserve(tmp, bytes) == RF_OK) return RF_OK;
    RF_H5(H5Fclose(*file));
    return RF_ERR;
}

int rf_h5_close_trimmed(hid_t file, const char *tmp) {
    hsize_t size;
    RF_H5(H5Fflush(file, H5F_SCOPE_GLOBAL));
    RF_H5(H5Fget_filesize(file, &size));
    RF_H5(H5Fclose(file));
    if (truncate(tmp, (off_t)size) == 0) return RF_OK;
    int e = errno;
    unlink(tmp);
    return rf_fail("cannot truncate %s: %s", tmp, strerror(e));
}

int rf_h5_exists(hid_t loc, const char *path) {
    /* H5Lexists fails (rather than saying no) when a group above the link is missing: walk the
     * path one link at a time. */
    char *p = rf_strdup(path);
    size_t n = strlen(p);
    int result = 1;
    for (size_t i = 1; i <= n && result == 1; i++) {
        if (i < n && p[i] != '/') continue;
        char saved = p[i];
        htri_t e;
        p[i] = '\0';
        RF_H5_QUIET(e = H5Lexists(loc, p, H5P_DEFAULT));
        p[i] = saved;
        result = e < 0 ? rf_fail("%s cannot be read (corrupt file?)", path) : e > 0;
    }
    free(p);
    return result;
}

void rf_h5_create_group(hid_t loc, const char *path) {
    hid_t lcpl = lcpl_new();
    hid_t g = RF_H5(H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT));
    RF_H5(H5Gclose(g));
    RF_H5(H5Pclose(lcpl));
}

void rf_h5_link(hid_t loc, const char *target, const char *path) {
    hid_t lcpl = lcpl_new();
    RF_H5(H5Lcreate_hard(loc, target, loc, path, lcpl, H5P_DEFAULT));
    RF_H5(H5Pclose(lcpl));
}

/* About CHUNK_BYTES per chunk: whole trailing dimensions and as many leading indices as fit, so
 * that reading one row touches one chunk. A row larger than that is split along the next dim. */
static void chunk_shape(int rank, const hsize_t *dims, size_t elsize, hsize_t *chunk) {
    for (int d = 0; d < rank; d++) chunk[d] = dims[d] ? dims[d] : 1;
    for (int d = 0; d < rank; d++) {
        hsize_t inner = elsize;
        for (int e = d + 1; e < rank; e++) inner *= chunk[e];
        hsize_t fit = CHUNK_BYTES / inner;
        if (fit >= 1) {
            if (fit < chunk[d]) chunk[d] = fit;
            return;
        }
        chunk[d] = 1;
    }
}

void rf_h5_write_dataset(hid_t loc, const char *path, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *data) {
    rf_check(rank >= 1 && rank <= MAX_RANK, "rf_h5_write_dataset: rank %d", rank);
    size_t elsize = H5Tget_size(ftype);
    rf_check(elsize > 0, "H5Tget_size failed for %s", path);
    hsize_t chunk[MAX_RANK];
    chunk_shape(rank, dims, elsize, chunk);

    hid_t space = RF_H5(H5Screate_simple(rank, dims, NULL));
    hid_t dcpl = RF_H5(H5Pcreate(H5P_DATASET_CREATE));
    RF_H5(H5Pset_chunk(dcpl, rank, chunk));
    RF_H5(H5Pset_fletcher32(dcpl));
    /* no creation times in the object header: the same data gives the same bytes (calibrate's
     * xtx.h5 is byte-identical for any rank count) */
    RF_H5(H5Pset_obj_track_times(dcpl, 0));
    hid_t lcpl = lcpl_new();
    hid_t dset = RF_H5(H5Dcreate2(loc, path, ftype, space, lcpl, dcpl, H5P_DEFAULT));
    RF_H5(H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
    RF_H5(H5Dclose(dset));
    RF_H5(H5Pclose(lcpl));
    RF_H5(H5Pclose(dcpl));
    RF_H5(H5Sclose(space));
}

/* The one attribute writer: a scalar of file type ftype from memory of type mtype. */
static void write_attr(hid_t loc, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                       const void *value) {
    hid_t space = RF_H5(H5Screate(H5S_SCALAR));
    hid_t attr =
        RF_H5(H5Acreate_by_name(loc, obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    RF_H5(H5Awrite(attr, mtype, value));
    RF_H5(H5Aclose(attr));
    RF_H5(H5Sclose(space));
}

void rf_h5_attr_i64(hid_t loc, const char *obj, const char *name, int64_t value) {
    write_attr(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void rf_h5_attr_f64(hid_t loc, const char *obj, const char *name, double value) {
    write_attr(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

/* Variable-length: the object header keeps a reference only, so long JSON (config, provenance)
 * does not hit the 64 KiB limit of attributes stored in the header. */
static hid_t vlen_utf8(void) {
    hid_t t = RF_H5(H5Tcopy(H5T_C_S1));
    RF_H5(H5Tset_size(t, H5T_VARIABLE));
    RF_H5(H5Tset_cset(t, H5T_CSET_UTF8));
    return t;
}

void rf_h5_attr_str(hid_t loc, const char *obj, const char *name, const char *value) {
    hid_t t = vlen_utf8();
    write_attr(loc, obj, name, t, t, &value);
    RF_H5(H5Tclose(t));
}

int rf_h5_open_dataset(hid_t loc, const char *path, hid_t *dset) {
    int e = rf_h5_exists(loc, path);
    if (e <= 0) return e < 0 ? RF_ERR : rf_fail("%s is missing", path);
    hid_t d;
    RF_H5_QUIET(d = H5Dopen2(loc, path, H5P_DEFAULT));
    if (d < 0) return rf_fail("%s cannot be opened as a dataset", path);
    *dset = d;
    return RF_OK;
}

int rf_h5_dataset_rank(hid_t dset, hsize_t *dims, int max_rank) {
    hid_t space = RF_H5(H5Dget_space(dset));
    int rank = (int)RF_H5(H5Sget_simple_extent_ndims(space));
    if (rank <= max_rank) RF_H5(H5Sget_simple_extent_dims(space, dims, NULL));
    RF_H5(H5Sclose(space));
    return rank;
}

/* The path the object was opened by, for messages. */
static const char *object_name(hid_t obj, char *buf, size_t len) {
    if (H5Iget_name(obj, buf, len) <= 0) snprintf(buf, len, "(unnamed object)");
    return buf;
}

/* H5Ewalk2 callback: does the failure come from the Fletcher32 filter? (Only picks the wording of
 * the message, so the walk itself is not checked.) */
static herr_t find_checksum(unsigned n, const H5E_error2_t *err, void *found) {
    if (err->desc && strstr(err->desc, "checksum")) *(int *)found = 1;
    return 0;
}

int rf_h5_read_dataset(hid_t dset, hid_t mtype, void *buf) {
    herr_t r;
    int checksum = 0;
    RF_H5_QUIET(r = H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
                if (r < 0) H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_checksum, &checksum));
    if (r < 0) {
        char name[1024];
        return rf_fail("%s %s", object_name(dset, name, sizeof name),
                       checksum ? "fails its Fletcher32 checksum (corrupt data)"
                                : "cannot be read (corrupt file?)");
    }
    return RF_OK;
}

int rf_h5_has_attr(hid_t loc, const char *obj, const char *name) {
    htri_t e;
    RF_H5_QUIET(e = H5Aexists_by_name(loc, obj, name, H5P_DEFAULT));
    return e > 0;
}

/* Opens attribute name of obj, which must hold one value, and its type (caller closes both). */
static int open_attr(hid_t loc, const char *obj, const char *name, hid_t *attr, hid_t *type) {
    if (!rf_h5_has_attr(loc, obj, name)) return rf_fail("%s has no attribute %s", obj, name);
    hid_t a;
    RF_H5_QUIET(a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT));
    if (a < 0) return rf_fail("attribute %s of %s cannot be read", name, obj);
    hid_t space = RF_H5(H5Aget_space(a));
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    RF_H5(H5Sclose(space));
    if (npoints != 1) {
        RF_H5(H5Aclose(a));
        return rf_fail("attribute %s of %s is not a single value", name, obj);
    }
    *attr = a;
    *type = RF_H5(H5Aget_type(a));
    return RF_OK;
}

/* Reads a numeric attribute as mtype; integer attributes always convert, floats only when
 * floats are wanted. */
static int read_attr_num(hid_t loc, const char *obj, const char *name, hid_t mtype, int float_ok,
                         void *value) {
    hid_t a, t;
    if (open_attr(loc, obj, name, &a, &t) != RF_OK) return RF_ERR;
    H5T_class_t cls = H5Tget_class(t);
    int rc = RF_OK;
    if (cls != H5T_INTEGER && !(float_ok && cls == H5T_FLOAT)) {
        rc = rf_fail("attribute %s of %s is not %s", name, obj, float_ok ? "a number" : "an integer");
    } else {
        herr_t r;
        RF_H5_QUIET(r = H5Aread(a, mtype, value));
        if (r < 0) rc = rf_fail("attribute %s of %s cannot be read", name, obj);
    }
    RF_H5(H5Tclose(t));
    RF_H5(H5Aclose(a));
    return rc;
}

int rf_h5_read_attr_i64(hid_t loc, const char *obj, const char *name, int64_t *value) {
    return read_attr_num(loc, obj, name, H5T_NATIVE_INT64, 0, value);
}

int rf_h5_read_attr_f64(hid_t loc, const char *obj, const char *name, double *value) {
    return read_attr_num(loc, obj, name, H5T_NATIVE_DOUBLE, 1, value);
}

/* Variable-length strings (ours) come back as a pointer HDF5 allocates; fixed-length ones (other
 * writers) as bytes, NUL-padded or not. */
static int read_str(hid_t a, hid_t t, char **value) {
    herr_t r;
    if (RF_H5(H5Tis_variable_str(t))) {
        char *s = NULL;
        hid_t mt = vlen_utf8();
        RF_H5(H5Tset_cset(mt, RF_H5(H5Tget_cset(t))));
        RF_H5_QUIET(r = H5Aread(a, mt, &s));
        RF_H5(H5Tclose(mt));
        if (r < 0) return RF_ERR;
        *value = rf_strdup(s ? s : "");
        RF_H5(H5free_memory(s));
        return RF_OK;
    }
    size_t n = H5Tget_size(t);
    char *s = rf_calloc(n + 1, 1);
    RF_H5_QUIET(r = H5Aread(a, t, s));
    if (r < 0) {
        free(s);
        return RF_ERR;
    }
    *value = s;
    return RF_OK;
}

int rf_h5_read_attr_str(hid_t loc, const char *obj, const char *name, char **value) {
    hid_t a, t;
    if (open_attr(loc, obj, name, &a, &t) != RF_OK) return RF_ERR;
    int rc = RF_OK;
    if (H5Tget_class(t) != H5T_STRING)
        rc = rf_fail("attribute %s of %s is not a string", name, obj);
    else if (read_str(a, t, value) != RF_OK)
        rc = rf_fail("attribute %s of %s cannot be read", name, obj);
    RF_H5(H5Tclose(t));
    RF_H5(H5Aclose(a));
    return rc;
}

const char *rf_h5_shape_str(const hsize_t *dims, int rank, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < rank && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", d ? ", " : "",
                                 (unsigned long long)dims[d]);
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}
