/* aqlm_ref.c -- plain scalar float64 versions of every AQLM part, written straight from the
 * formulas (aqlm.h, docs/aqlm.md; the reference's aq.py / beam_search_xtx.py), for tests to hold
 * the fast paths to. Slow on purpose: no BLAS, no OpenMP, nothing incremental.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

static double xtx_at(const float *XTX, int64_t in, int64_t r, int64_t c) {
    return XTX ? XTX[r * in + c] : (double)(r == c);
}

/* Wq of one out-group with codes codes_o [Ig, M]: rows [og, in], float64. */
static void group_dequant(const rf_aqlm_matrix *q, int64_t o, const uint16_t *codes_o,
                          double *rows) {
    const int og = q->og, ig = q->ig, M = q->M;
    const int64_t in = q->in_features;
    for (int a = 0; a < og; a++)
        for (int64_t j = 0; j < in; j++) {
            int64_t i = j / ig;
            int b = (int)(j % ig);
            double acc = 0;
            for (int m = 0; m < M; m++)
                acc += q->codebooks[(((int64_t)m * q->K + codes_o[i * M + m]) * og + a) * ig + b];
            rows[a * in + j] = q->scales[o] * acc;
        }
}

void aqlm_topk_scores_ref(const float *x, const float *a, int64_t n, int d, const float *C,
                          const float *N, int K, int top, int32_t *idx, float *val) {
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < top; j++) val[i * top + j] = INFINITY, idx[i * top + j] = -1;
        for (int k = 0; k < K; k++) {
            double dot = 0;
            for (int e = 0; e < d; e++) dot += (double)C[(int64_t)k * d + e] * x[i * d + e];
            float s = (float)((a ? a[i] : 1.0) * N[k] - 2 * dot);
            int j = top;
            while (j > 0 && s < val[i * top + j - 1]) j--; /* ties: the earlier k stays first */
            if (j == top) continue;
            for (int t = top - 1; t > j; t--) {
                val[i * top + t] = val[i * top + t - 1];
                idx[i * top + t] = idx[i * top + t - 1];
            }
            val[i * top + j] = s;
            idx[i * top + j] = k;
        }
    }
}

void aqlm_kmeans_assign_ref(const float *x, int64_t n, int d, const float *C, int K,
                            int32_t *assign) {
    for (int64_t i = 0; i < n; i++) {
        double best = INFINITY;
        assign[i] = -1;
        for (int k = 0; k < K; k++) {
            double dist = 0;
            for (int e = 0; e < d; e++) {
                double t = (double)x[i * d + e] - C[(int64_t)k * d + e];
                dist += t * t;
            }
            if (dist < best) best = dist, assign[i] = k;
        }
    }
}

void rf_aqlm_dequantize_ref(const rf_aqlm_matrix *q, float *W_hat) {
    const int og = q->og, ig = q->ig, M = q->M, K = q->K;
    const int64_t out = q->out_features, in = q->in_features, Ig = in / ig;
    for (int64_t r = 0; r < out; r++)
        for (int64_t j = 0; j < in; j++) {
            int64_t o = r / og, i = j / ig;
            int a = (int)(r % og), b = (int)(j % ig);
            float acc = 0; /* float, codebooks in order m = 0..M-1: the checkpoint's consumers */
            for (int m = 0; m < M; m++)
                acc +=
                    q->codebooks[(((int64_t)m * K + q->codes[(o * Ig + i) * M + m]) * og + a) * ig +
                                 b];
            W_hat[r * in + j] = q->scales[o] * acc;
        }
}

double aqlm_loss_grad_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                          double *g_codebooks, double *g_scales) {
    const int og = q->og, ig = q->ig, d = og * ig, M = q->M, K = q->K;
    const int64_t out = q->out_features, in = q->in_features, Og = out / og, Ig = in / ig;
    double *Wq = rf_malloc(sizeof(double) * og * in), *G = rf_malloc(sizeof(double) * og * in);
    memset(g_codebooks, 0, sizeof(double) * M * K * d);
    double loss = 0;
    for (int64_t o = 0; o < Og; o++) {
        group_dequant(q, o, q->codes + o * Ig * M, Wq);
        for (int a = 0; a < og; a++)
            for (int64_t j = 0; j < in; j++) { /* G = 2 (Wq - W) XTX / out, row by row */
                double e = 0;
                for (int64_t t = 0; t < in; t++)
                    e += (Wq[a * in + t] - W[(o * og + a) * in + t]) * xtx_at(XTX, in, t, j);
                loss += (Wq[a * in + j] - W[(o * og + a) * in + j]) * e;
                G[a * in + j] = 2 * e / out;
            }
        double gs = 0;
        for (int64_t j = 0; j < og * in; j++) gs += G[j] * Wq[j] / q->scales[o];
        g_scales[o] = gs;
        for (int64_t i = 0; i < Ig; i++)
            for (int m = 0; m < M; m++) {
                double *g = g_codebooks + ((int64_t)m * K + q->codes[(o * Ig + i) * M + m]) * d;
                for (int a = 0; a < og; a++)
                    for (int b = 0; b < ig; b++)
                        g[a * ig + b] += q->scales[o] * G[a * in + i * ig + b];
            }
    }
    free(G);
    free(Wq);
    return loss / out;
}

double aqlm_group_loss_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q, int64_t o,
                           const uint16_t *codes_o) {
    const int og = q->og;
    const int64_t in = q->in_features;
    double *dW = rf_malloc(sizeof(double) * og * in);
    group_dequant(q, o, codes_o, dW);
    for (int a = 0; a < og; a++)
        for (int64_t j = 0; j < in; j++) dW[a * in + j] -= W[(o * og + a) * in + j];
    double loss = 0;
    for (int a = 0; a < og; a++)
        for (int64_t r = 0; r < in; r++)
            for (int64_t c = 0; c < in; c++)
                loss += dW[a * in + r] * xtx_at(XTX, in, r, c) * dW[a * in + c];
    free(dW);
    return loss;
}

void aqlm_beam_candidate_losses_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                                    int64_t o, const uint16_t *codes_o, double beam_loss, int64_t g,
                                    int m, double *losses) {
    const int og = q->og, ig = q->ig, d = og * ig, K = q->K;
    const int64_t in = q->in_features;
    const double s = q->scales[o];
    const float *cold = q->codebooks + ((int64_t)m * K + codes_o[g * q->M + m]) * d;
    double *R = rf_malloc(sizeof(double) * og * in), *dWX = rf_malloc(sizeof(double) * d);
    /* R = W - Wq + s * c_old on g's columns; dWX = R @ XTX[:, g] */
    group_dequant(q, o, codes_o, R);
    for (int a = 0; a < og; a++) {
        for (int64_t j = 0; j < in; j++) R[a * in + j] = W[(o * og + a) * in + j] - R[a * in + j];
        for (int b = 0; b < ig; b++) R[a * in + g * ig + b] += s * cold[a * ig + b];
        for (int b = 0; b < ig; b++) {
            double acc = 0;
            for (int64_t t = 0; t < in; t++) acc += R[a * in + t] * xtx_at(XTX, in, t, g * ig + b);
            dWX[a * ig + b] = acc;
        }
    }
    double old_norm = 0;
    for (int a = 0; a < og; a++)
        for (int b = 0; b < ig; b++)
            for (int e = 0; e < ig; e++)
                old_norm += (double)cold[a * ig + b] * xtx_at(XTX, in, g * ig + b, g * ig + e) *
                            cold[a * ig + e];
    for (int k = 0; k < K; k++) {
        const float *c = q->codebooks + ((int64_t)m * K + k) * d;
        double dot = 0, norm = 0;
        for (int e = 0; e < d; e++) dot += ((double)c[e] - cold[e]) * dWX[e];
        for (int a = 0; a < og; a++)
            for (int b = 0; b < ig; b++)
                for (int e = 0; e < ig; e++)
                    norm += (double)c[a * ig + b] * xtx_at(XTX, in, g * ig + b, g * ig + e) *
                            c[a * ig + e];
        losses[k] = beam_loss - 2 * s * dot + s * s * norm - s * s * old_norm;
    }
    free(dWX);
    free(R);
}

typedef struct {
    double l;
    int j, k;
} ref_cand;

static int ref_cand_before(const ref_cand *x, const ref_cand *y) {
    if (x->l != y->l) return x->l < y->l;
    return x->j != y->j ? x->j < y->j : x->k < y->k;
}

void aqlm_beam_pass_ref(const float *W, const float *XTX, rf_aqlm_matrix *q, int beam_size,
                        const int64_t *g_order, const int *m_order, double *group_loss) {
    const int M = q->M, K = q->K, B = beam_size;
    const int64_t Og = q->out_features / q->og, Ig = q->in_features / q->ig, n = Ig * M;
    uint16_t *hyp = rf_malloc(sizeof *hyp * B * n), *next = rf_malloc(sizeof *next * B * n);
    double *hl = rf_malloc(sizeof(double) * B), *nl = rf_malloc(sizeof(double) * B);
    double *losses = rf_malloc(sizeof(double) * K);
    ref_cand *cands = rf_malloc(sizeof *cands * B * K);
    for (int64_t o = 0; o < Og; o++) { /* out-groups are independent */
        int nh = 1;
        memcpy(hyp, q->codes + o * n, sizeof *hyp * n);
        hl[0] = aqlm_group_loss_ref(W, XTX, q, o, hyp);
        for (int64_t gi = 0; gi < Ig; gi++)
            for (int mi = 0; mi < M; mi++) {
                int64_t g = g_order[gi];
                int m = m_order[gi * M + mi], nc = 0;
                for (int j = 0; j < nh; j++) {
                    aqlm_beam_candidate_losses_ref(W, XTX, q, o, hyp + j * n, hl[j], g, m, losses);
                    for (int k = 0; k < K; k++) cands[nc++] = (ref_cand){losses[k], j, k};
                }
                int keep = nc < B ? nc : B;
                for (int r = 0; r < keep; r++) { /* selection sort: lowest loss, then j, then k */
                    int best = r;
                    for (int t = r + 1; t < nc; t++)
                        if (ref_cand_before(&cands[t], &cands[best])) best = t;
                    ref_cand tmp = cands[r];
                    cands[r] = cands[best];
                    cands[best] = tmp;
                }
                for (int r = 0; r < keep; r++) {
                    memcpy(next + r * n, hyp + cands[r].j * n, sizeof *next * n);
                    next[r * n + g * M + m] = (uint16_t)cands[r].k;
                    nl[r] = cands[r].l;
                }
                uint16_t *t = hyp;
                hyp = next, next = t;
                double *tl = hl;
                hl = nl, nl = tl;
                nh = keep;
            }
        memcpy(q->codes + o * n, hyp, sizeof *hyp * n);
        if (group_loss) group_loss[o] = hl[0];
    }
    free(cands);
    free(losses);
    free(nl);
    free(hl);
    free(next);
    free(hyp);
}

void aqlm_errors_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q, double *rel_act_err,
                     double *rel_w_err) {
    const int64_t out = q->out_features, in = q->in_features;
    float *Wq = rf_malloc(sizeof(float) * out * in); /* the float values users compute with */
    rf_aqlm_dequantize_ref(q, Wq);
    double num = 0, den = 0, dw2 = 0, w2 = 0;
    for (int64_t r = 0; r < out; r++)
        for (int64_t j = 0; j < in; j++) {
            double w = W[r * in + j], dw = (double)Wq[r * in + j] - w;
            dw2 += dw * dw;
            w2 += w * w;
            for (int64_t t = 0; t < in; t++) {
                double x = xtx_at(XTX, in, j, t);
                num += dw * x * ((double)Wq[r * in + t] - W[r * in + t]);
                den += w * x * W[r * in + t];
            }
        }
    *rel_act_err = den > 0 ? num / den : NAN;
    *rel_w_err = w2 > 0 ? sqrt(dw2 / w2) : NAN;
    free(Wq);
}
