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

int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return rf_fail("%s: path too long", path);
    hid_t file;
    if (rf_h5_create_reserved(tmp, space_needed(n, shard_paths, config_json, provenance_json), &file) !=
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
    if (rf_h5_close_trimmed(file, tmp) != RF_OK) return rf_fail_prefix("%s: ", path);
    if (rf_image_header_write(tmp) != RF_OK) {
        unlink(tmp);
        return RF_ERR;
    }
    return rf_atomic_commit(tmp, path);
}
