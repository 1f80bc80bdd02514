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
