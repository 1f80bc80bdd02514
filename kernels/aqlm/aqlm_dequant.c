/* aqlm_dequant.c -- W_hat from (codes, codebooks, scales), and the reported errors.
 *
 *   W_hat[o*og+a, i*ig+b] = scales[o] * sum_m codebooks[m, codes[o,i,m], a, b]     W_hat [out, in]
 *   rel_act_err = tr(dW XTX dW^T) / tr(W XTX W^T),  rel_w_err = |dW|_F / |W|_F,  dW = W_hat - W
 *   (NaN where the denominator is <= 0)
 * aqlm_dequantize_minus fuses the first with "- W", where the loss and the beam search start.
 * The traces are float64 products (cblas_dgemm) over column panels of XTX, so only a panel of XTX
 * is ever converted to double.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

void aqlm_dequantize_minus(const rf_aqlm_matrix *q, const float *W, float *out) {
    const int og = q->og, ig = q->ig, d = og * ig, M = q->M, K = q->K;
    const int64_t in = q->in_features, Og = q->out_features / og, Ig = in / ig;
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Og; o++) {
        const float s = q->scales[o];
        for (int64_t i = 0; i < Ig; i++) {
            const uint16_t *code = q->codes + (o * Ig + i) * M;
            for (int a = 0; a < og; a++) {
                float *w = out + (o * og + a) * in + i * ig;
                for (int b = 0; b < ig; b++) w[b] = 0;
                for (int m = 0; m < M; m++) {
                    const float *c = q->codebooks + ((int64_t)m * K + code[m]) * d + a * ig;
                    for (int b = 0; b < ig; b++) w[b] += c[b];
                }
                for (int b = 0; b < ig; b++) w[b] *= s;
                if (W)
                    for (int b = 0; b < ig; b++) w[b] -= W[(o * og + a) * in + i * ig + b];
            }
        }
    }
}

void rf_aqlm_dequantize(const rf_aqlm_matrix *q, float *W_hat) {
    aqlm_dequantize_minus(q, NULL, W_hat);
}

enum { PANEL = 128 }; /* XTX columns per float64 panel */

void rf_aqlm_errors(const float *W, const float *XTX, const rf_aqlm_matrix *q, double *rel_act_err,
                    double *rel_w_err) {
    const int64_t out = q->out_features, in = q->in_features;
    /* A = [dW; W] in float64, [2*out, in]: one product gives both traces. */
    double *A = rf_malloc((size_t)(2 * out * in) * sizeof *A);
    float *Wq = rf_malloc((size_t)(out * in) * sizeof *Wq);
    rf_aqlm_dequantize(q, Wq);
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < out * in; j++) {
        A[j] = (double)Wq[j] - (double)W[j]; /* exact: the float Wq users get, minus W */
        A[out * in + j] = W[j];
    }
    free(Wq);
    double *row = rf_calloc((size_t)(2 * out), sizeof *row); /* per-row sums: a fixed order */
    if (!XTX) {
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < 2 * out; r++)
            for (int64_t j = 0; j < in; j++) row[r] += A[r * in + j] * A[r * in + j];
    } else {
        double *panel = rf_malloc((size_t)(in * PANEL) * sizeof *panel);
        double *E = rf_malloc((size_t)(2 * out * PANEL) * sizeof *E);
        for (int64_t j0 = 0; j0 < in; j0 += PANEL) {
            int64_t pw = in - j0 < PANEL ? in - j0 : PANEL;
            for (int64_t r = 0; r < in; r++)
                for (int64_t j = 0; j < pw; j++) panel[r * pw + j] = XTX[r * in + j0 + j];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(2 * out), (int)pw, (int)in,
                        1.0, A, (int)in, panel, (int)pw, 0.0, E, (int)pw);
#pragma omp parallel for schedule(static)
            for (int64_t r = 0; r < 2 * out; r++)
                for (int64_t j = 0; j < pw; j++) row[r] += A[r * in + j0 + j] * E[r * pw + j];
        }
        free(E);
        free(panel);
    }
    double num = 0, den = 0, dw2 = 0, w2 = 0;
    for (int64_t r = 0; r < out; r++) num += row[r], den += row[out + r];
    if (XTX) {
        for (int64_t j = 0; j < out * in; j++)
            dw2 += A[j] * A[j], w2 += A[out * in + j] * A[out * in + j];
    } else {
        dw2 = num, w2 = den;
    }
    /* A ratio with a denominator <= 0 (W zero, or in the null space of XTX, or an XTX that is not
     * positive semi-definite) is undefined: NaN, never a perfect 0. */
    *rel_act_err = den > 0 ? num / den : NAN;
    *rel_w_err = w2 > 0 ? sqrt(dw2 / w2) : NAN;
    free(row);
    free(A);
}
