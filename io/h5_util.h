/* h5_util.h -- the small HDF5 vocabulary shared by the shard/checkpoint and XTX files.
 *
 * Two kinds of failure, kept apart as rf_error.h says:
 *   - a call that must not fail (a dataspace, a property list, a type, anything written into a
 *     file being built in memory) goes through RF_H5(call): a negative return is an internal
 *     error with file:line, after HDF5 has printed its own error stack;
 *   - anything that depends on the user's file (opening it, finding an object, a checksum that
 *     does not match, a full disk when the file is written out) returns RF_ERR with one line.
 *     Those HDF5 calls run with HDF5's error printing off (RF_H5_QUIET): we report them.
 * Messages of the read helpers name the object ("/matrices/X/codes fails its Fletcher32
 * checksum"); the public functions of h5_container.c, the record files and xtx_file.c prefix
 * the file name.
 *
 * On-disk conventions: integers int64 little-endian, floats float64, strings variable-length
 * UTF-8 (readers also accept fixed-length ones), float16 the IEEE half layout h5py reads as
 * numpy float16. Datasets are chunked (about 1 MiB per chunk) with the Fletcher32 filter, so
 * every H5Dread verifies what it reads.
 */
#ifndef RF_H5_UTIL_H
#define RF_H5_UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rf_error.h"

static inline int64_t rf_h5_ok_at(int64_t ret, const char *call, const char *file, int line) {
    if (ret < 0) rf_fatal_at(file, line, "HDF5 call failed: %s", call);
    return ret;
}
#define RF_H5(call) rf_h5_ok_at((int64_t)(call), #call, __FILE__, __LINE__)

/* Runs stmt with HDF5's automatic error printing off (the failure is expected and reported). */
#define RF_H5_QUIET(stmt) H5E_BEGIN_TRY { stmt; } H5E_END_TRY

/* IEEE half (size 2, sign bit 15, exponent bits 10..14 with bias 15, mantissa bits 0..9): the
 * file type and the memory type of uint16 fp16 bit patterns alike. Owned by this module. */
hid_t rf_h5_fp16(void);

/* Files. rf_h5_open opens an existing file read-only (RF_ERR naming PATH when it is missing or not
 * a readable HDF5 file). Closing a file closes every object still open in it.
 *
 * Writing: rf_h5_create_mem makes an empty file in memory (HDF5's core driver); rf_h5_finish
 * closes it and, when status is RF_OK, writes its image to PATH with rf_atomic_write (PATH.tmp,
 * fsync, rename; RF_ERR naming the path and strerror on a full disk), otherwise discards it and
 * prefixes the recorded message with PATH. The file starts with a 512-byte user block holding the
 * XXH3-128 of the rest (image_checksum.h), written in the same atomic write. Through these, HDF5
 * itself never writes to disk: HDF5 1.10 cannot recover from a failed write (a file whose close
 * fails stays half-closed and crashes the library at exit), so disk errors are kept where they
 * can be reported. The price is memory: the file's size twice, briefly, when it is written. The
 * checkpoint, as large as the model, is the exception: io/checkpoint.c has HDF5 write it into
 * disk space reserved beforehand. */
int rf_h5_open(const char *path, hid_t *file);
void rf_h5_close(hid_t file);
hid_t rf_h5_create_mem(const char *path);
int rf_h5_finish(hid_t file, const char *path, int status);

/* Files too large to build in memory (the checkpoint, the XTX file of calibrate) are built on
 * disk in TMP, with every byte they can take reserved first, so that HDF5 never meets a full disk
 * (the failure it cannot survive): rf_h5_create_reserved allocates `bytes` of TMP (RF_ERR naming
 * it and the reason, TMP removed) and creates the file there with the image checksum's user
 * block; rf_h5_close_trimmed closes it and cuts the reservation's unused tail (what lies past
 * HDF5's end of allocated space). Then rf_image_header_write and rf_atomic_commit. */
int rf_h5_create_reserved(const char *tmp, int64_t bytes, hid_t *file);
int rf_h5_close_trimmed(hid_t file, const char *tmp);

/* 1 when every link along path (absolute, or relative to loc) exists, 0 when one is missing,
 * RF_ERR when the file cannot be read there. */
int rf_h5_exists(hid_t loc, const char *path);
/* Creates group path (and the groups above it). */
void rf_h5_create_group(hid_t loc, const char *path);
/* Makes path a hard link to the existing object target (groups above path are created). */
void rf_h5_link(hid_t loc, const char *target, const char *path);

/* Writes data (memory layout mtype) as the chunked, Fletcher32-checked dataset path of file type
 * ftype and shape dims[rank]; groups above it are created. */
void rf_h5_write_dataset(hid_t loc, const char *path, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *data);

/* Scalar attributes on object obj (relative to loc; "." is loc itself). */
void rf_h5_attr_i64(hid_t loc, const char *obj, const char *name, int64_t value);
void rf_h5_attr_f64(hid_t loc, const char *obj, const char *name, double value);
void rf_h5_attr_str(hid_t loc, const char *obj, const char *name, const char *value);

/* Reading user files (RF_ERR with a line naming the object). */
int rf_h5_open_dataset(hid_t loc, const char *path, hid_t *dset);
/* The dataset's rank; its dims too when the rank is at most max_rank. */
int rf_h5_dataset_rank(hid_t dset, hsize_t *dims, int max_rank);
/* Reads the whole dataset converted to mtype; a Fletcher32 mismatch is RF_ERR. */
int rf_h5_read_dataset(hid_t dset, hid_t mtype, void *buf);
/* Scalar attributes: integer into int64, integer or float into double, string malloc'd. */
int rf_h5_read_attr_i64(hid_t loc, const char *obj, const char *name, int64_t *value);
int rf_h5_read_attr_f64(hid_t loc, const char *obj, const char *name, double *value);
int rf_h5_read_attr_str(hid_t loc, const char *obj, const char *name, char **value);
/* 1 when obj has attribute name, else 0. */
int rf_h5_has_attr(hid_t loc, const char *obj, const char *name);

/* "[3, 4]" into buf: shapes in messages. */
const char *rf_h5_shape_str(const hsize_t *dims, int rank, char *buf, size_t len);

#endif
