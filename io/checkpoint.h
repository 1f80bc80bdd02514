/* checkpoint.h -- the HDF5 shard and checkpoint files (DESIGN.md section 3, docs/formats.md).
 *
 *   /                attrs format="riverforge.checkpoint" (shards: "riverforge.shard"),
 *                    format_version=1, config (JSON), created (UTC ISO 8601), version
 *   /matrices/NAME/  attrs method="aqlm", out_features, in_features, num_codebooks,
 *                    nbits_per_codebook, in_group_size, out_group_size, rel_act_err, rel_w_err,
 *                    bits_per_weight, seconds, epochs, adam_steps, device
 *       codes      uint8 (nbits <= 8) or uint16  [out/og, in/ig, M]
 *       codebooks  float16 [M, K, og, ig]
 *       scales     float16 [out/og]
 * Datasets are chunked with the Fletcher32 checksum filter; reading them back verifies it.
 * Attribute types: integers int64, floats float64, strings variable-length UTF-8.
 *   /vit/NAME/       the generated matrices of shared ViT blocks (io/vit_record.h)
 * The checkpoint root also holds attribute provenance (JSON: per-task stats, timings, ranks).
 * Every file is written as PATH.tmp, fsynced and renamed: a file at PATH is always complete.
 */
#ifndef RF_CHECKPOINT_H
#define RF_CHECKPOINT_H

#include "common/rf_version.h" /* RF_VERSION: the root attribute "version" */
#include "kernels/aqlm/aqlm.h"

#define RF_CHECKPOINT_FORMAT "riverforge.checkpoint"
#define RF_SHARD_FORMAT "riverforge.shard"
#define RF_FORMAT_VERSION 1

typedef struct {
    const char *name;            /* tensor name without ".weight" */
    const rf_aqlm_matrix *q;     /* codebooks and scales already fp16-representable */
    const rf_aqlm_stats *stats;
    const char *device;          /* "cpu" or "cuda" */
} rf_matrix_record;

/* One task's shard: /matrices/NAME in a file of its own. */
int rf_shard_write(const char *path, const char *config_json, const rf_matrix_record *rec);
/* RF_ERR (with the reason) unless PATH is a complete shard of this config holding NAME whose
 * datasets all read back with valid checksums. stats (may be NULL) receives the shard's stats. */
int rf_shard_verify(const char *path, const char *name, const char *config_json,
                    rf_aqlm_stats *stats);

/* What a shard holds: /matrices/NAME (AQLM) or /vit/NAME (a generated ViT matrix). */
typedef enum { RF_RECORD_MATRIX = 0, RF_RECORD_VIT = 1 } rf_record_kind;

/* Copies /matrices/NAME or /vit/NAME (kinds[i]) of every shard into PATH, verifies every copied
 * dataset, and writes the root attributes (config, provenance). */
int rf_checkpoint_assemble(const char *path, const char *config_json, const char *provenance_json,
                           int n, const char *const *shard_paths, const char *const *names,
                           const rf_record_kind *kinds);

/* Reading back (inspect, dequantize, tests). Names are returned sorted; free with
 * rf_checkpoint_free_names. */
int rf_checkpoint_list(const char *path, char ***names, int *n);
void rf_checkpoint_free_names(char **names, int n);
/* Allocates q (free with rf_aqlm_free) and fills it, converting fp16 to float32; stats from the
 * attributes. Works on shards and checkpoints. */
int rf_checkpoint_read_matrix(const char *path, const char *name, rf_aqlm_matrix *q,
                              rf_aqlm_stats *stats, char *device, int device_len);
/* Root attribute "config" (malloc'd string) of a shard or checkpoint. */
int rf_checkpoint_read_config(const char *path, char **config_json);

#endif
