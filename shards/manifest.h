/* manifest.h -- OUT/manifest.json: which model and which configuration an output directory's
 * shards belong to, so that a run never mixes shards of two runs.
 *
 *   {"model": "/abs/path", "model_fingerprint": "16 hex digits", "config": {...run config...}}
 *
 * The fingerprint hashes every tensor's name, dtype and shape and three 4 KiB samples of its
 * bytes (start, middle, end): a fine-tuned model with the same shapes gets another one, and
 * computing it reads a few MB, not the model. It covers the whole model, not the --only
 * selection, so runs of different selections may share an output directory. */
#ifndef RF_MANIFEST_H
#define RF_MANIFEST_H

#include "io/safetensors.h"

/* 16 hex digits + NUL. */
void rf_model_fingerprint(const rf_st_model *model, char out[17]);

/* When OUT/manifest.json exists: RF_ERR (one line naming --out and what differs) unless it
 * records the same fingerprint and configuration. When absent: writes it (atomically). */
int rf_manifest_check_or_write(const char *out_dir, const char *model_path,
                               const char *fingerprint, const char *config_json);

#endif
