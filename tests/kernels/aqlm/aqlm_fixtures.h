/* aqlm_fixtures.h -- small random AQLM problems for the kernel tests: weights, a calibration
 * XTX with correlated features (symmetric PSD, like a real one), and random quantized matrices.
 * Header-only (static inline functions). */
#ifndef RF_TEST_AQLM_FIXTURES_H
#define RF_TEST_AQLM_FIXTURES_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/aqlm/aqlm.h"
#include "kernels/aqlm/aqlm_internal.h"

static inline float *fx_randn(rf_rng *r, int64_t n, double scale) {
    float *x = rf_malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(scale * rf_rng_normal(r));
    return x;
}

/* XTX = X^T X / ns for ns samples of in features that mix a few shared factors (so features are
 * correlated) and have a couple of loud channels, as calibration inputs do. */
static inline float *fx_xtx(rf_rng *r, int64_t in) {
    int64_t ns = 4 * in;
    double *X = rf_malloc((size_t)(ns * in) * sizeof *X);
    for (int64_t t = 0; t < ns; t++) {
        double f0 = rf_rng_normal(r), f1 = rf_rng_normal(r);
        for (int64_t j = 0; j < in; j++)
            X[t * in + j] = rf_rng_normal(r) + 0.8 * f0 + (j % 2 ? 0.5 : -0.5) * f1 +
                            (j % 7 == 3 ? 3 * rf_rng_normal(r) : 0);
    }
    float *xtx = rf_malloc((size_t)(in * in) * sizeof *xtx);
    for (int64_t a = 0; a < in; a++)
        for (int64_t b = 0; b < in; b++) {
            double s = 0;
            for (int64_t t = 0; t < ns; t++) s += X[t * in + a] * X[t * in + b];
            xtx[a * in + b] = (float)(s / ns);
        }
    free(X);
    return xtx;
}

static inline rf_aqlm_config fx_config(int M, int nbits, int og, int ig, int beam) {
    rf_aqlm_config c = rf_aqlm_config_default();
    c.num_codebooks = M;
    c.nbits_per_codebook = nbits;
    c.out_group_size = og;
    c.in_group_size = ig;
    c.beam_size = beam;
    return c;
}

/* A quantized matrix with random codes, codebooks ~ N(0, 0.3) and scales in [0.5, 1.5). */
static inline void fx_random_q(rf_rng *r, rf_aqlm_matrix *q, int64_t out, int64_t in,
                               const rf_aqlm_config *c) {
    rf_aqlm_alloc(q, out, in, c);
    int64_t Og = out / q->og, Ig = in / q->ig;
    for (int64_t j = 0; j < Og * Ig * q->M; j++) q->codes[j] = (uint16_t)rf_rng_below(r, q->K);
    for (int64_t j = 0; j < (int64_t)q->M * q->K * q->og * q->ig; j++)
        q->codebooks[j] = (float)(0.3 * rf_rng_normal(r));
    for (int64_t o = 0; o < Og; o++) q->scales[o] = (float)(0.5 + rf_rng_uniform(r));
}

#endif
