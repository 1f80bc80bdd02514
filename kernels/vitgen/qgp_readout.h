/* qgp_readout.h -- QGP's read-out over all entries of a matrix, fused into one SIMD pass
 * (qgp_readout.c): the kernel that dominates a QGP training step at RiverONE's sizes after the
 * circuit. The MLP's parameter layout is gen_mlp.h's.
 */
#ifndef RF_QGP_READOUT_H
#define RF_QGP_READOUT_H

#include <stdint.h>

#include "kernels/vitgen/gen_mlp.h"

/* The fused read-out of qgp (qgp.c, vitgen.h) over all N entries of a matrix: the 3-layer MLP m
 * (F -> H -> H -> 1) on the features of entry j
 *   x_j = (p_j * pscale [only when p], bit_q(j) ? +1 : -1 for q < nbits, S_j * inv_s)
 * gives G_j = S_j + s y_j, and the loss is L = gscale * sum_j (G_j - W_j)^2.
 * rf_readout_eval writes G [N] and returns L; with grad it also writes grad = dL/dparams
 * [m->nparams] (overwritten) and, when p, overwrites p [N] with dL/dp_j.
 * The entries go in fixed chunks of RF_READOUT_CHUNK rows (an OpenMP loop; every chunk is computed
 * by one thread with its own scratch, SIMD over rows, the bit features as a table lookup), and the
 * chunks' partial losses and gradients are summed in chunk order: results do not depend on the
 * thread count. rf_readout_work holds the scratch (per thread and per chunk), made once per
 * training; rf_readout_eval_ref is the plain-loop twin (rf_mlp_forward_ref / backward_ref on the
 * built features, double sums) the tests hold it to. */
#define RF_READOUT_CHUNK 4096

typedef struct {
    const rf_mlp *m; /* 3 layers, sizes {F, H, H, 1} with F = nbits + 1 + (p != NULL) */
    int nbits;       /* N <= 2^nbits */
    int64_t N;
    const float *S, *W;
    float s, inv_s;
    float *p; /* NULL, or [N] */
    float pscale;
    double gscale;
} rf_readout;

typedef struct rf_readout_work rf_readout_work;
rf_readout_work *rf_readout_work_new(const rf_readout *r);
/* Bytes rf_readout_work_new allocates for m (width H), N entries and `threads` threads. */
double rf_readout_work_bytes(int H, int nbits, int64_t N, int64_t nparams, int threads);
void rf_readout_work_free(rf_readout_work *w);
double rf_readout_eval(const rf_readout *r, rf_readout_work *w, const float *params, float *G,
                       float *grad);
double rf_readout_eval_ref(const rf_readout *r, const float *params, float *G, float *grad);

#endif
