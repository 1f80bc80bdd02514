/* qgp_readout_internal.h -- what the read-out's dispatcher (qgp_readout.c) and its per-SIMD-path
 * chunk kernel (qgp_readout_simd.c, compiled once per path) share: the work area and the chunk
 * function. kernels/vitgen only.
 *
 * A chunk (RF_READOUT_CHUNK rows, one thread) goes in blocks of BLK = 128 rows whose first row is
 * a multiple of BLK. Layer 1's low bits (< LOB = 7) are those of a row's index in its block: their
 * term is the table T [H][BLK], made once per pass. Per-thread scratch is laid out in vectors of
 * the path's width VL (qgp_readout_simd.c); it is sized for the widest, RF_READOUT_VL_MAX. */
#ifndef RF_QGP_READOUT_INTERNAL_H
#define RF_QGP_READOUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/vitgen/qgp_readout.h"

enum { RF_READOUT_BLK = 128, RF_READOUT_LOB = 7, RF_READOUT_VL_MAX = 16 };

struct rf_readout_work {
    int H, nbits, nhi, threads;
    int64_t nchunks, np;
    size_t per_thread; /* floats of scratch per thread (64-byte multiple) */
    float *T;          /* [H][BLK]: the low bits' term of layer 1 */
    float *scratch;    /* [threads][per_thread], 64-byte aligned */
    float *gpart;      /* [nchunks][np] */
    double *lpart;     /* [nchunks] */
    double *gsum;      /* [np] */
};

/* Rows [c0, c1) of one chunk on one SIMD path: writes G, returns sum (G_j - W_j)^2 (double, row
 * order); with gpart (not NULL) also writes the chunk's dL/dparams there and dL/dp_j into p.
 * sc: the thread's scratch. */
typedef double rf_readout_chunk_fn(const rf_readout *r, const rf_readout_work *w,
                                   const float *params, int64_t c0, int64_t c1, float *sc,
                                   float *G, float *gpart);
rf_readout_chunk_fn rf_readout_chunk_baseline, rf_readout_chunk_avx2, rf_readout_chunk_avx512;

#endif
