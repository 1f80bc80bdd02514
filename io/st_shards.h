/* st_shards.h -- writes a model's tensors as Hugging Face sharded safetensors: files
 * DIR/model-0000N.safetensors of at most about file_bytes each, then
 * DIR/model.safetensors.index.json naming the file of every tensor.
 *
 * Tensors are added one at a time, in the order they go into the files; a file is written
 * (atomically, io/safetensors.h) as soon as the next tensor would take it over file_bytes, so that
 * one file's tensors at most are held in memory. A tensor larger than file_bytes gets a file of its
 * own. Used by `riverforge dequantize` (dense float32) and `riverforge export` (aqlm-hf).
 */
#ifndef RF_ST_SHARDS_H
#define RF_ST_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

/* Hugging Face's default shard size is 5 GB; riverforge keeps files near 2 GiB. */
#define RF_ST_SHARD_BYTES ((size_t)2 << 30)

typedef struct rf_st_shards rf_st_shards;

/* Starts writing into DIR, which must exist. */
rf_st_shards *rf_st_shards_begin(const char *dir, size_t file_bytes);
/* Adds tensor e (its name is copied; its data must stay valid until its file is written). owned,
 * when not NULL, is freed once the tensor's file is written or the writer ends: pass e->data when
 * the caller hands over a malloc'd buffer, NULL for data that lives elsewhere (a mapped file). */
int rf_st_shards_add(rf_st_shards *s, const rf_st_entry *e, void *owned);
/* Ends the writer and frees it. When status is RF_OK: writes the last file and the index, and
 * returns RF_OK or the failure; otherwise writes nothing more and returns status. The counts
 * (may be NULL) are those of the tensors written. */
int rf_st_shards_end(rf_st_shards *s, int status, int *ntensors, uint64_t *total_bytes);

#endif
