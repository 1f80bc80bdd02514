/* gen_common.h -- what the shared-ViT generators (qgp.c, paramgen.c) and their dispatch (vitgen.c)
 * share: the configuration, the result and its stats, and the helpers every trainer uses. It sits
 * below the generators and knows none of them; vitgen.h (the public API) includes it.
 *
 * Matrices are [out, in] row-major float32, N = out * in entries.
 */
#ifndef RF_GEN_COMMON_H
#define RF_GEN_COMMON_H

#include <stdint.h>

#include "kernels/progress.h"

typedef enum { RF_GEN_NONE = 0, RF_GEN_QGP = 1, RF_GEN_PARAMGEN = 2 } rf_gen_kind;

typedef struct {
    rf_gen_kind kind;
    int steps;       /* Adam steps (generator and baseline alike) */
    double lr;       /* Adam learning rate */
    int layers;      /* circuit layers: qgp 2, paramgen 3 */
    int width;       /* read-out hidden width: qgp 16, paramgen 256 */
    int rank;        /* paramgen: r of U V^T (8) */
    int qubits;      /* paramgen: 12 (qgp: fixed by the matrix, n = ceil(log2 N)) */
    double noise;    /* paramgen: Pauli noise probability per qubit per layer while training (0) */
} rf_gen_config;

typedef struct {
    double rel_w_err;          /* ||G - W||_F / ||W||_F */
    double shared_rel_w_err;   /* ||S - W||_F / ||W||_F: plain sharing */
    double baseline_rel_w_err; /* the classical baseline's G */
    int qubits, layers;        /* 0 for none */
    int64_t params;            /* the generator's trainable parameters, angles included */
    int64_t baseline_params;
    int steps;                 /* Adam steps run */
    double seconds;
} rf_gen_stats;

#define RF_GEN_MAX_TENSORS 12

/* One trained parameter array of the generator, as the checkpoint stores it (generator/NAME). */
typedef struct {
    char name[32];             /* "angles" [L, n, 3], "readout.0.weight" [H, F], ... */
    int ndim;
    int64_t dims[3];
    float *data;
} rf_gen_tensor;

typedef struct {
    int64_t out_features, in_features;
    float *weight;             /* G [out, in] */
    int ntensors;
    rf_gen_tensor tensors[RF_GEN_MAX_TENSORS];
} rf_gen_result;

/* Frees what res holds and zeroes it (a zeroed res is fine). */
void rf_gen_free(rf_gen_result *res);

/* Appends a copy of data (dims[0..ndim-1] floats) as res->tensors[res->ntensors++]. */
void rf_gen_add_tensor(rf_gen_result *res, const char *name, int ndim, const int64_t *dims,
                       const float *data);

/* sum_j (a_j - b_j)^2 (b NULL: sum_j a_j^2) in double, over fixed blocks added in order: the
 * same bits for any thread count (NaN/Inf when an entry is). */
double rf_gen_sum_sq_diff(const float *a, const float *b, int64_t n);

/* ||a - b||_F / ||b||_F over n entries, accumulated in double (0 when b is zero and a == b). */
double rf_gen_rel_err(const float *a, const float *b, int64_t n);

/* A trainer's progress over its two trainings (generator and baseline): steps done of total. */
typedef struct {
    rf_progress_fn fn;
    void *ctx;
    int done, total;
} rf_gen_progress;

/* One more step done: reports done / total; returns the callback's answer (nonzero: stop). */
int rf_gen_progress_step(rf_gen_progress *p);

#endif
