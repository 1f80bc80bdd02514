/* vit_record.h -- /vit/NAME in shards and checkpoints: the generated matrix of a shared ViT block
 * (shards/vit_share.h, kernels/vitgen/vitgen.h), stored as a plain tensor so inference needs no circuit.
 *
 *   /vit/NAME/   attrs method ("qgp" | "paramgen" | "none"), shared_from (block A's matrix),
 *                out_features, in_features, rel_w_err, shared_rel_w_err, baseline_rel_w_err,
 *                beats_sharing, beats_baseline (1 when rel_w_err is below the other's, else 0),
 *                qubits, layers, params, baseline_params, steps, seconds, device
 *       weight      float32 [out, in]: the generated matrix, to use in place of block B's
 *       generator/  the trained generator's parameter arrays, float32 (vitgen.h names them)
 * NAME is block B's tensor name without ".weight". Datasets are chunked with Fletcher32, as in
 * /matrices (matrix_record.h); the file around the record is h5_container.h's (docs/formats.md).
 * A shard of a generated matrix also has an empty /matrices: every riverforge file has one.
 */
#ifndef RF_VIT_RECORD_H
#define RF_VIT_RECORD_H

#include <stdint.h>

#include "io/h5_container.h" /* hid_t, and rf_container_free_names for the listings */
#include "kernels/vitgen/vitgen.h"

typedef struct rf_vit_record {
    const char *name;           /* block B's matrix */
    const char *shared_from;    /* block A's matrix */
    rf_gen_kind kind;
    const rf_gen_result *res;
    const rf_gen_stats *stats;
    const char *device;
} rf_vit_record;

typedef struct rf_vit_info {
    char method[16];
    char shared_from[256];
    int64_t out_features, in_features;
    int beats_sharing, beats_baseline;
    int ngenerator;             /* datasets under generator/ */
    rf_gen_stats stats;
} rf_vit_info;

/* One task's shard: /vit/NAME in a file of its own, written atomically. */
int rf_vit_shard_write(const char *path, const char *config_json, const rf_vit_record *rec);
/* RF_ERR (with the reason) unless PATH is a complete shard of this config holding /vit/NAME whose
 * datasets all read back with valid checksums. stats (may be NULL) receives the shard's. */
int rf_vit_shard_verify(const char *path, const char *name, const char *config_json,
                        rf_gen_stats *stats);
/* Reads /vit/NAME of a shard or checkpoint: info, and when weight is not NULL the generated
 * matrix (malloc'd float32 [out, in]). */
int rf_vit_read(const char *path, const char *name, rf_vit_info *info, float **weight);
/* The names under /vit, sorted (none when the file has no /vit); free with
 * rf_container_free_names. */
int rf_vit_list(const char *path, char ***names, int *n);

/* /vit/NAME on an open file (named fname in messages): write it, or read it back and check it
 * (weight may be NULL: checks and checksums only). */
void rf_vit_write_group(hid_t file, const rf_vit_record *rec);
int rf_vit_read_group(hid_t file, const char *fname, const char *name, rf_vit_info *info,
                      float **weight);

#endif
