/* checkpoint.h -- the assembly of a run's checkpoint.h5 from its shards (docs/formats.md).
 *
 * The checkpoint is a riverforge file (h5_container.h) with format "riverforge.checkpoint" and a
 * provenance attribute, holding every shard's record side by side: /matrices/NAME
 * (matrix_record.h) and /vit/NAME (vit_record.h). Read it back with those headers.
 */
#ifndef RF_CHECKPOINT_H
#define RF_CHECKPOINT_H

/* What a shard holds: /matrices/NAME (AQLM) or /vit/NAME (a generated ViT matrix). */
typedef enum { RF_RECORD_MATRIX = 0, RF_RECORD_VIT = 1 } rf_record_kind;

/* Copies /matrices/NAME or /vit/NAME (kinds[i]) of every shard into PATH, verifies every copied
 * dataset, and writes the root attributes (config, provenance). Built on disk in PATH.tmp, one
 * record at a time (memory does not grow with the checkpoint), then renamed to PATH; the disk must
 * hold the shards' size plus the provenance and 1 MiB while it is built. RF_ERR naming the shard
 * and PATH when a shard is missing, of another config, or damaged, or naming PATH and the reason
 * when the disk cannot hold it; PATH is not touched then and PATH.tmp is removed. */
int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds);

#endif
