/* aqlm_adam.c -- the objective, its gradient and torch's Adam (amsgrad) step.
 *
 *   L = tr(dW XTX dW^T) / out,  dW = Wq - W,  G = dL/dWq = 2 dW XTX / out        [out, in]
 *   dL/dcodebooks[m, k] = sum over groups (o, i) with codes[o,i,m] == k of scales[o] * G[o, i]
 *   dL/dscales[o]       = <G rows of o, Wq rows of o> / scales[o]
 * One sgemm (dW @ XTX) per step; the loss is reduced in float64. The codebook gradient is a
 * gather over an index of the groups using each codeword (built once per epoch: codes only change
 * in the beam pass), so every codeword sums its groups in one fixed order -- deterministic without
 * atomics, and independent of the thread count.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

void aqlm_code_index_build(const rf_aqlm_matrix *q, aqlm_code_index *ix) {
    const int M = q->M, K = q->K;
    const int64_t n = (q->out_features / q->og) * (q->in_features / q->ig);
    if (!ix->start) {
        ix->start = rf_malloc((size_t)M * (K + 1) * sizeof *ix->start);
        ix->groups = rf_malloc((size_t)(M * n) * sizeof *ix->groups);
    }
    for (int m = 0; m < M; m++) { /* counting sort of the groups by code: stable, so sorted */
        int64_t *start = ix->start + (int64_t)m * (K + 1), *groups = ix->groups + m * n;
        memset(start, 0, (size_t)(K + 1) * sizeof *start);
        for (int64_t p = 0; p < n; p++) start[q->codes[p * M + m] + 1]++;
        for (int k = 0; k < K; k++) start[k + 1] += start[k];
        for (int64_t p = 0; p < n; p++) groups[start[q->codes[p * M + m]]++] = p;
        for (int k = K; k > 0; k--) start[k] = start[k - 1]; /* the fill advanced each start */
        start[0] = 0;
    }
}

void aqlm_code_index_free(aqlm_code_index *ix) {
    free(ix->start);
    free(ix->groups);
    ix->start = NULL;
    ix->groups = NULL;
}

double aqlm_loss_grad(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                      const aqlm_code_index *ix, float *work, float *g_codebooks, float *g_scales) {
    const int og = q->og, ig = q->ig, d = og * ig, M = q->M, K = q->K;
    const int64_t out = q->out_features, in = q->in_features, Og = out / og, Ig = in / ig;
    float *dW = work, *E = work + out * in;
    aqlm_dequantize_minus(q, W, dW);
    if (XTX)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)out, (int)in, (int)in, 1.0f, dW,
                    (int)in, XTX, (int)in, 0.0f, E, (int)in);
    else
        E = dW;

    /* Per out-group: its share of the loss (float64) and the scale gradient; per codeword: its
     * gradient. Both only read E, so one parallel region with no barrier between them. */
    double *part = rf_malloc((size_t)Og * sizeof *part);
    const float gmul = (float)(2.0 / (double)out); /* G = gmul * E */
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
        for (int64_t o = 0; o < Og; o++) {
            double l = 0, gs = 0;
            for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) {
                l += (double)dW[j] * E[j];
                gs += (double)E[j] * ((double)dW[j] + W[j]); /* Wq = dW + W */
            }
            part[o] = l;
            g_scales[o] = (float)(gmul * gs / q->scales[o]);
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t mk = 0; mk < (int64_t)M * K; mk++) {
            int64_t m = mk / K, k = mk % K;
            const int64_t *start = ix->start + m * (K + 1), *groups = ix->groups + m * Og * Ig;
            float *g = g_codebooks + mk * d;
            for (int e = 0; e < d; e++) g[e] = 0;
            for (int64_t t = start[k]; t < start[k + 1]; t++) {
                int64_t o = groups[t] / Ig, i = groups[t] % Ig;
                float s = gmul * q->scales[o];
                for (int a = 0; a < og; a++) {
                    const float *e = E + (o * og + a) * in + i * ig;
                    for (int b = 0; b < ig; b++) g[a * ig + b] += s * e[b];
                }
            }
        }
    }
    double loss = 0;
    for (int64_t o = 0; o < Og; o++) loss += part[o];
    free(part);
    return loss / (double)out;
}

void aqlm_adam_update(float *p, const float *g, float *v, float *vmax, int64_t n, double lr,
                      double beta2, double eps, int64_t t) {
    /* torch.optim.Adam with beta1 = 0: exp_avg = g and bias_correction1 = 1. */
    const float b2 = (float)beta2, one_minus_b2 = (float)(1.0 - beta2);
    const float bc2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)t));
    const float flr = (float)lr, feps = (float)eps;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) {
        v[j] = v[j] * b2 + one_minus_b2 * g[j] * g[j];
        vmax[j] = fmaxf(vmax[j], v[j]);
        float denom = sqrtf(vmax[j]) / bc2_sqrt + feps;
        p[j] -= flr * (g[j] / denom);
    }
}
