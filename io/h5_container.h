/* h5_container.h -- the riverforge HDF5 file as a container: what every shard and checkpoint has,
 * whatever records it holds (docs/formats.md has the whole layout).
 *
 *   /              attrs format = "riverforge.checkpoint" | "riverforge.shard", format_version = 1,
 *                        config (JSON), created (UTC ISO 8601), version, and in checkpoints
 *                        provenance (JSON: per-task stats, timings, ranks)
 *   /GROUP/NAME/   one record per tensor: /matrices/NAME (io/matrix_record.h) and /vit/NAME
 *                  (io/vit_record.h); io/checkpoint.h assembles the records of many shards
 *
 * A shard holds one record and root attributes that tie it to the run's configuration; resume
 * trusts a shard only when its whole image matches the checksum in its user block
 * (image_checksum.h, checked before HDF5 opens it) and its root says format "riverforge.shard",
 * this format_version and exactly this config. Files are built in memory and written atomically
 * (h5_util.h says why): a file at PATH is always complete.
 */
#ifndef RF_H5_CONTAINER_H
#define RF_H5_CONTAINER_H

#include <hdf5.h>

#include "common/rf_version.h" /* RF_VERSION: the root attribute "version" */

#define RF_CHECKPOINT_FORMAT "riverforge.checkpoint"
#define RF_SHARD_FORMAT "riverforge.shard"
#define RF_FORMAT_VERSION 1

/* The groups of the two record kinds. Every riverforge file has /matrices, maybe empty. */
#define RF_MATRIX_GROUP "/matrices"
#define RF_VIT_GROUP "/vit"

/* The size of every buffer that holds a path inside the file. */
#define RF_CONTAINER_PATH_LEN 4096

/* format, format_version, config, created, version (and provenance when not NULL) on "/". */
void rf_container_write_root(hid_t file, const char *format, const char *config_json,
                             const char *provenance_json);
/* RF_ERR naming fname unless the root has this format, RF_FORMAT_VERSION and exactly config. */
int rf_container_check_root(hid_t file, const char *fname, const char *format,
                            const char *config_json);

/* RF_ERR naming fname unless name can be one HDF5 link name (no '/', not empty, not "."). */
int rf_container_check_name(const char *fname, const char *name);
/* "GROUP/NAME", or "GROUP/NAME/LEAF" when leaf is given, into buf [RF_CONTAINER_PATH_LEN];
 * group is absolute ("/matrices"). */
void rf_container_record_path(char *buf, const char *group, const char *name, const char *leaf);

/* Prefixes the recorded message (which names the object) with the file it is about; RF_ERR. */
int rf_container_fail_in(const char *fname);

/* A new shard in memory for record name (checked with rf_container_check_name) with its root
 * attributes written; the caller adds the record and writes it out with rf_h5_finish. */
int rf_container_create_shard(const char *path, const char *config_json, const char *name,
                              hid_t *file);
/* Checks PATH's image checksum (rf_image_check), then opens it read-only and checks that it
 * is a shard of this config (rf_container_check_root); on RF_ERR nothing is left open. */
int rf_container_open_shard(const char *path, const char *config_json, hid_t *file);

/* The names under group of PATH, sorted by strcmp; missing_ok: no group means no names rather
 * than RF_ERR. Free them with rf_container_free_names. */
int rf_container_list(const char *path, const char *group, int missing_ok, char ***names, int *n);
void rf_container_free_names(char **names, int n);

/* Root attribute "config" (malloc'd string) of a shard or checkpoint. */
int rf_container_read_config(const char *path, char **config_json);

#endif
