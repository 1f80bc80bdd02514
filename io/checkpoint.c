/* checkpoint.c -- assembling checkpoint.h5 from the shards (checkpoint.h).
 *
 * The checkpoint is built on disk, in PATH.tmp, one record at a time: H5Ocopy from the shard
 * (chunks are copied as stored, Fletcher32 checksums included), the shard closed, the copy read
 * back so that a damaged shard cannot slip in. Memory stays flat whatever the size of the model:
 * it holds one record at a time and HDF5's caches, which are bounded (docs/perf.md, "Assembling
 * the checkpoint"). Then its image checksum goes into its user block (image_checksum.h), and
 * fsync and rename (rf_atomic_commit): a file at PATH is always complete, and when a shard fails
 * nothing is left at PATH or PATH.tmp.
 *
 * HDF5 1.10 does not survive a failed write: H5Ocopy crashes in its error path, and a file whose
 * close fails stays half-open until the library ends. So the disk space the checkpoint can take
 * (the shards' bytes and the provenance, with a margin) is reserved in PATH.tmp before HDF5 writes
 * to it: a full disk, a quota or a file-size limit is one clear error, and HDF5 writes only into
 * blocks that exist. The reservation's unused tail is cut off before the commit.
 */
#include "io/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "io/h5_container.h"
#include "io/h5_util.h"
#include "io/image_checksum.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"

/* What the checkpoint adds to its records, with room to spare: the root and its attributes, the
 * groups' name indexes. Each shard already spends more than its record on its own root. */
#define SPACE_MARGIN ((off_t)1 << 20)
#define SPACE_PER_RECORD 512
#define METADATA_CACHE_BYTES ((size_t)1 << 20)

/* Reads the record just copied into dst back: this verifies its checksums. */
static int read_back(hid_t dst, const char *shard, rf_record_kind kind, const char *name) {
    if (kind == RF_RECORD_VIT) {
        rf_vit_info info;
        return rf_vit_read_group(dst, shard, name, &info, NULL);
    }
    return rf_matrix_read_group(dst, shard, name, NULL, NULL, NULL, 0);
}

/* Copies the record (/matrices/NAME or /vit/NAME) of shard into dst and reads the copy back.
 * Messages name the shard: the copied chunks are the shard's bytes, checksums and all. */
static int copy_record(hid_t dst, const char *shard, rf_record_kind kind, const char *name,
                       const char *config_json) {
    hid_t src; /* rf_container_open_shard checks the shard's image checksum before HDF5 opens it */
    if (rf_container_open_shard(shard, config_json, &src) != RF_OK) return RF_ERR;
    char g[RF_CONTAINER_PATH_LEN];
    rf_container_record_path(g, kind == RF_RECORD_VIT ? RF_VIT_GROUP : RF_MATRIX_GROUP, name, NULL);
    int e = rf_h5_exists(src, g), rc = RF_OK;
    if (e <= 0) rc = e < 0 ? rf_container_fail_in(shard) : rf_fail("%s has no %s", shard, g);
    if (rc == RF_OK) {
        herr_t r;
        RF_H5_QUIET(r = H5Ocopy(src, g, dst, g, H5P_DEFAULT, H5P_DEFAULT));
        if (r < 0) rc = rf_fail("%s: %s cannot be copied (corrupt file?)", shard, g);
    }
    rf_h5_close(src);
    return rc == RF_OK ? read_back(dst, shard, kind, name) : rc;
}

/* An upper bound of the checkpoint's size. A shard that cannot be read counts nothing: copying it
 * fails with the reason. */
static off_t space_needed(int n, const char *const *shard_paths, const char *config_json,
                          const char *provenance_json) {
    off_t bytes = SPACE_MARGIN + (off_t)strlen(config_json) +
                  (provenance_json ? (off_t)strlen(provenance_json) : 0);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(shard_paths[i], &st) == 0) bytes += st.st_size;
        bytes += SPACE_PER_RECORD;
    }
    return bytes;
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

/* File access for the assembly: HDF5's default driver (sec2, straight to disk), no lock (the file
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

/* A new HDF5 file at tmp with every byte it will write already reserved. The reservation is made
 * once before H5Fcreate, so that HDF5 never meets a full disk, and again after it, since creating
 * the file truncated it. */
static int create_reserved(const char *tmp, off_t bytes, hid_t *file) {
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

/* Closes the finished file and cuts the reservation's unused tail: what lies past HDF5's end of
 * allocated space (read after a flush; closing writes nothing past it) is not part of the file. */
static int close_and_trim(hid_t file, const char *tmp) {
    hsize_t size;
    RF_H5(H5Fflush(file, H5F_SCOPE_GLOBAL));
    RF_H5(H5Fget_filesize(file, &size));
    RF_H5(H5Fclose(file));
    if (truncate(tmp, (off_t)size) == 0) return RF_OK;
    int e = errno;
    unlink(tmp);
    return rf_fail("cannot truncate %s: %s", tmp, strerror(e));
}

int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rf_fail("%s: path too long", path);
    hid_t file;
    if (create_reserved(tmp, space_needed(n, shard_paths, config_json, provenance_json), &file) !=
        RF_OK)
        return rf_fail_prefix("%s: ", path);
    rf_h5_create_group(file, RF_MATRIX_GROUP); /* present even when empty: rf_matrix_list needs it */
    for (int i = 0; i < n; i++)
        if (kinds[i] == RF_RECORD_VIT) {
            rf_h5_create_group(file, RF_VIT_GROUP);
            break;
        }
    int rc = RF_OK;
    for (int i = 0; i < n && rc == RF_OK; i++)
        if (copy_record(file, shard_paths[i], kinds[i], names[i], config_json) != RF_OK)
            rc = rf_fail_prefix("shard ");
    if (rc != RF_OK) {
        RF_H5(H5Fclose(file));
        unlink(tmp);
        return rf_fail_prefix("%s: ", path);
    }
    rf_container_write_root(file, RF_CHECKPOINT_FORMAT, config_json, provenance_json);
    if (close_and_trim(file, tmp) != RF_OK) return rf_fail_prefix("%s: ", path);
    if (rf_image_header_write(tmp) != RF_OK) {
        unlink(tmp);
        return RF_ERR;
    }
    return rf_atomic_commit(tmp, path);
}
