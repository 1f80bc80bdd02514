/* xtx_file.h -- calibration statistics: /xtx/NAME float32 or float64 [in, in], attribute
 * nsamples (int64), XTX = (1/N) sum_t x_t x_t^T over the N calibration tokens entering matrix
 * NAME. Matrices sharing an input may be hard links to one dataset. */
#ifndef RF_XTX_FILE_H
#define RF_XTX_FILE_H

#include <stdint.h>

typedef struct rf_xtx_file rf_xtx_file;

/* A user's file: run rf_xtx_probe on it (one process is enough) before any rank opens it. */
int rf_xtx_probe(const char *path);
int rf_xtx_open(rf_xtx_file **f, const char *path);
void rf_xtx_close(rf_xtx_file *f);
int rf_xtx_has(rf_xtx_file *f, const char *name);
/* Metadata only, before anything is allocated for it: RF_ERR naming the file and the dataset when
 * /xtx/NAME is missing ("FILE has no /xtx/NAME"), not floating point, or not [in, in] (both
 * shapes named). */
int rf_xtx_check(rf_xtx_file *f, const char *name, int64_t in_features);
/* 16 hex digits + NUL over every /xtx/NAME (sorted): its name, type, shape, nsamples and three
 * samples of its values (1024 values of its first, middle and last rows): a file with other
 * statistics under the same name gets another fingerprint, and computing it reads a few MB. */
int rf_xtx_fingerprint(rf_xtx_file *f, char out[17]);
/* Reads /xtx/NAME into xtx [in, in] (float32). RF_ERR naming the file and the dataset when it
 * is missing, not [in, in], not float, not finite or not symmetric (to 1e-4 relative). */
int rf_xtx_read(rf_xtx_file *f, const char *name, int64_t in_features, float *xtx,
                int64_t *nsamples);

/* Writes PATH atomically. Entries whose xtx pointer equals an earlier entry's become hard links
 * to that entry's dataset. xtx[i] is float64 [in[i], in[i]]. */
int rf_xtx_write(const char *path, int n, const char *const *names, const double *const *xtx,
                 const int64_t *in, int64_t nsamples);

/* The same file built on disk a few entries at a time, for files too large for memory: create
 * reserves `bytes` (the matrices' float64 data; the metadata's room is added) in PATH.tmp; each
 * add writes entries as rf_xtx_write does (hard links only within one add); finish, when status
 * is RF_OK, writes the image checksum and renames PATH.tmp to PATH (RF_ERR naming PATH), else
 * removes PATH.tmp and returns RF_ERR. Adding the entries of rf_xtx_write in the same order
 * gives the same bytes. */
typedef struct rf_xtx_writer rf_xtx_writer;
int rf_xtx_writer_create(rf_xtx_writer **w, const char *path, int64_t bytes);
void rf_xtx_writer_add(rf_xtx_writer *w, int n, const char *const *names,
                       const double *const *xtx, const int64_t *in, int64_t nsamples);
int rf_xtx_writer_finish(rf_xtx_writer *w, int status);

/* Reads /xtx/NAME [in, in] as float64, as written (our own files: no value checks). */
int rf_xtx_read_f64(rf_xtx_file *f, const char *name, int64_t in_features, double *xtx);

#endif
