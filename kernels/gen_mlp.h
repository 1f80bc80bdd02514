/* gen_mlp.h -- the trainable read-outs of the ViT generators (vitgen.h): a small tanh MLP applied
 * row by row to a batch, and Adam over a flat parameter vector.
 *
 * MLP of nlayers dense layers, sizes[0] inputs -> sizes[1] -> ... -> sizes[nlayers] outputs;
 * tanh after every layer but the last. Parameters in one flat float array, layer by layer:
 *   W_l [sizes[l+1], sizes[l]] row-major, then b_l [sizes[l+1]]
 * x [batch, sizes[0]] -> y [batch, sizes[nlayers]], row-major. Products are sgemm (OpenBLAS).
 * rf_mlp_forward_ref / rf_mlp_backward_ref are the plain-loop twins the tests hold them to.
 */
#ifndef RF_GEN_MLP_H
#define RF_GEN_MLP_H

#include <stddef.h>
#include <stdint.h>

#define RF_MLP_MAX_LAYERS 4

typedef struct {
    int nlayers;
    int sizes[RF_MLP_MAX_LAYERS + 1];
    int64_t nparams;
} rf_mlp;

void rf_mlp_init(rf_mlp *m, int nlayers, const int *sizes);
/* W_l ~ N(0, 1 / sizes[l]), b_l = 0; zero_last != 0 makes the output layer all zero. */
void rf_mlp_init_params(const rf_mlp *m, float *params, uint64_t seed, int zero_last);
/* Floats of work a forward over `batch` rows needs (the activations backward reuses). */
size_t rf_mlp_work_floats(const rf_mlp *m, int64_t batch);
void rf_mlp_forward(const rf_mlp *m, const float *params, const float *x, int64_t batch, float *y,
                    float *work);
void rf_mlp_forward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                        float *y, float *work);
/* After rf_mlp_forward with the same params, x and work: given dy = dL/dy [batch, out], ADDS
 * dL/dparams to grad [nparams] and, when dx is not NULL, writes dL/dx [batch, in]. work is
 * overwritten. */
void rf_mlp_backward(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                     const float *dy, float *work, float *grad, float *dx);
void rf_mlp_backward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                         const float *dy, float *work, float *grad, float *dx);

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

/* Adam (Kingma & Ba, bias-corrected; beta1 0.9, beta2 0.999, eps 1e-8) on n floats. */
typedef struct {
    int64_t n;
    int t;
    float *m, *v;
} rf_adam;

void rf_adam_init(rf_adam *a, int64_t n);
void rf_adam_step(rf_adam *a, float *params, const float *grad, double lr);
void rf_adam_free(rf_adam *a);

#endif
