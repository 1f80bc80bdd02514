/* checkpoint.c -- assembling checkpoint.h5 from the shards (checkpoint.h).
 *
 * Every record is H5Ocopy'd from its shard (chunks are copied as stored, Fletcher32 checksums
 * included) and then read back from the copy, so a damaged shard cannot slip in. The file is
 * built in memory and written with rf_atomic_write (h5_util.h says why): a file at PATH is
 * always complete.
 */
#include "io/checkpoint.h"

#include "common/rf_error.h"
#include "io/h5_container.h"
#include "io/h5_util.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"

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
    hid_t src;
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

int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds) {
    hid_t file = rf_h5_create_mem(path);
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
    if (rc == RF_OK)
        rf_container_write_root(file, RF_CHECKPOINT_FORMAT, config_json, provenance_json);
    return rf_h5_finish(file, path, rc);
}
