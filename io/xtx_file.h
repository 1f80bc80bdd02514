/* xtx_file.h -- calibration statistics: /xtx/NAME float32 or float64 [in, in], attribute
 * nsamples (int64), XTX = (1/N) sum_t x_t x_t^T over the N calibration tokens entering matrix
 * NAME. Matrices sharing an input may be hard links to one dataset. */
#ifndef RF_XTX_FILE_H
#define RF_XTX_FILE_H

#include <stdint.h>

typedef struct rf_xtx_file rf_xtx_file;

int rf_xtx_open(rf_xtx_file **f, const char *path);
void rf_xtx_close(rf_xtx_file *f);
int rf_xtx_has(rf_xtx_file *f, const char *name);
/* Reads /xtx/NAME into xtx [in, in] (float32). RF_ERR naming the file and the dataset when it
 * is missing, not [in, in], not float, not finite or not symmetric (to 1e-4 relative). */
int rf_xtx_read(rf_xtx_file *f, const char *name, int64_t in_features, float *xtx,
                int64_t *nsamples);

/* Writes PATH atomically. Entries whose xtx pointer equals an earlier entry's become hard links
 * to that entry's dataset. xtx[i] is float64 [in[i], in[i]]. */
int rf_xtx_write(const char *path, int n, const char *const *names, const double *const *xtx,
                 const int64_t *in, int64_t nsamples);

#endif
