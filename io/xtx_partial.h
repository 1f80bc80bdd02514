/* xtx_partial.h -- calibrate's work in progress: the folder OUT.partial beside calibrate's --out.
 *
 *   OUT.partial/inputs.json       what the statistics come from: {"model_fingerprint",
 *                                 "config_fingerprint", "tokens_fingerprint", "seqlen",
 *                                 "nsamples", "seed", "layers"}
 *   OUT.partial/layer-00003.h5    layer 3's finished statistics: an XTX file (xtx_file.h) of the
 *                                 layer's 7 matrices, written atomically with its image checksum
 *   OUT.partial/riverforge.lock   the lock of the calibration that owns the folder (out_lock.h)
 *
 * A layer file exists only once complete, so after an interruption or a crash the folder holds
 * whole layers; a rerun with the same inputs resumes at the first layer whose file is missing or
 * fails its checksum. The folder is removed once OUT is written.
 */
#ifndef RF_XTX_PARTIAL_H
#define RF_XTX_PARTIAL_H

#include <jansson.h>
#include <stddef.h>

/* OUT.partial into dir[len]; RF_ERR naming --out when it does not fit. */
int rf_xtx_partial_dir(const char *out, char *dir, size_t len);
/* DIR/layer-NNNNN.h5 */
void rf_xtx_partial_layer_path(const char *dir, int layer, char *path, size_t len);
/* 16 hex digits + NUL: XXH3-64 of the whole file at PATH (RF_ERR naming it when unreadable). */
int rf_file_fingerprint(const char *path, char out[17]);

/* When DIR/inputs.json exists: RF_ERR (one line naming --out and every key whose value differs,
 * old and new) unless it records the same inputs; *first_missing receives the first layer of
 * [0, nlayers) without a complete file. When absent: writes it (atomically), *first_missing = 0. */
int rf_xtx_partial_begin(const char *dir, json_t *inputs, int nlayers, int *first_missing);
/* Removes the folder and what calibrate wrote in it. */
void rf_xtx_partial_remove(const char *dir, int nlayers);

#endif
