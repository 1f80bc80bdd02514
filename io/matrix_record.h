/* matrix_record.h -- /matrices/NAME in shards and checkpoints: one AQLM-quantized matrix
 * (kernels/aqlm/aqlm.h), in a file laid out as h5_container.h says (docs/formats.md).
 *
 *   /matrices/NAME/  attrs method="aqlm", out_features, in_features, num_codebooks,
 *                    nbits_per_codebook, in_group_size, out_group_size, rel_act_err, rel_w_err,
 *                    bits_per_weight, seconds, epochs, adam_steps, device
 *       codes      uint8 (nbits <= 8) or uint16  [out/og, in/ig, M]
 *       codebooks  float16 [M, K, og, ig]
 *       scales     float16 [out/og]
 * NAME is the tensor name without ".weight". Datasets are chunked with the Fletcher32 checksum
 * filter; reading them back verifies it. Attribute types: integers int64, floats float64, strings
 * variable-length UTF-8. Every riverforge file has /matrices, empty when it holds no matrix.
 */
#ifndef RF_MATRIX_RECORD_H
#define RF_MATRIX_RECORD_H


#include "io/h5_container.h" /* hid_t, and rf_container_free_names for the listings */
#include "kernels/aqlm/aqlm.h"

typedef struct {
    const char *name;            /* tensor name without ".weight" */
    const rf_aqlm_matrix *q;     /* codebooks and scales already fp16-representable */
    const rf_aqlm_stats *stats;
    const char *device;          /* "cpu" or "cuda" */
} rf_matrix_record;

/* One task's shard: /matrices/NAME in a file of its own, written atomically. */
int rf_matrix_shard_write(const char *path, const char *config_json, const rf_matrix_record *rec);
/* RF_ERR (with the reason) unless PATH is a complete shard of this config holding NAME whose
 * datasets all read back with valid checksums. stats (may be NULL) receives the shard's stats. */
int rf_matrix_shard_verify(const char *path, const char *name, const char *config_json,
                           rf_aqlm_stats *stats);
/* Reads /matrices/NAME of a shard or checkpoint: allocates q (free with rf_aqlm_free) and fills
 * it, converting fp16 to float32; stats and device (may be NULL) from the attributes. */
int rf_matrix_read(const char *path, const char *name, rf_aqlm_matrix *q, rf_aqlm_stats *stats,
                   char *device, int device_len);
/* The names under /matrices, sorted; free with rf_container_free_names. */
int rf_matrix_list(const char *path, char ***names, int *n);

/* /matrices/NAME on an open file (named fname in messages): write it, or read it back and check
 * it -- attributes against shapes, every code below K, checksums. q may be NULL (checks only);
 * otherwise q is allocated as in rf_matrix_read, and holds nothing on RF_ERR. */
void rf_matrix_write_group(hid_t file, const rf_matrix_record *rec);
int rf_matrix_read_group(hid_t file, const char *fname, const char *name, rf_aqlm_matrix *q,
                         rf_aqlm_stats *stats, char *device, int device_len);

#endif
