/* manifest.h -- OUT/manifest.json: which model, which calibration statistics and which
 * configuration an output directory's shards belong to, so that a run never mixes shards of two
 * runs.
 *
 *   {"model": "/abs/path", "model_fingerprint": "16 hex digits",
 *    "xtx": "/abs/path" | null, "xtx_fingerprint": "16 hex digits" | null,
 *    "config": {...run config...}}
 *
 * The fingerprint hashes every tensor's name, dtype and shape and three 4 KiB samples of its
 * bytes (start, middle, end): a fine-tuned model with the same shapes gets another one, and
 * computing it reads a few MB, not the model. It covers the whole model, not the --only
 * selection, so runs of different selections may share an output directory. The XTX fingerprint
 * (io/xtx_file.h: rf_xtx_fingerprint) is its counterpart for --xtx, over every /xtx dataset for the
 * same reason: the run configuration records only the XTX file's name, and a rerun with other
 * statistics under that name must not keep shards computed from the old ones. The generators of
 * shared ViT blocks read only model tensors, which the model fingerprint covers. */
#ifndef RF_MANIFEST_H
#define RF_MANIFEST_H

#include "io/safetensors.h"

/* 16 hex digits + NUL. */
void rf_model_fingerprint(const rf_st_model *model, char out[17]);

/* When OUT/manifest.json exists: RF_ERR (one line naming --out, and --xtx when the statistics
 * differ, and what differs) unless it records the same fingerprints and configuration. When
 * absent: writes it (atomically). xtx_path and xtx_fingerprint are NULL for a run without --xtx;
 * a manifest without "xtx_fingerprint" (older riverforge) counts as one without --xtx. */
int rf_manifest_check_or_write(const char *out_dir, const char *model_path,
                               const char *fingerprint, const char *xtx_path,
                               const char *xtx_fingerprint, const char *config_json);

#endif
