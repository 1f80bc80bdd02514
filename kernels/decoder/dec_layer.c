/* dec_layer.c -- one decoder layer over nseq sequences of T tokens, the fast path: every
 * projection is one sgemm over all N = nseq*T rows; attention is two sgemms per (sequence, head)
 * (scores Q K^T [T, T], then P V), with the causal softmax in between. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/decoder/dec_internal.h"

struct rf_dec_work {
    int nseq, T;
    float *xn;            /* [N, H] normed input */
    float *q, *k, *v;     /* [N, nh*hd], [N, nkv*hd] x 2 */
    float *att;           /* [N, nh*hd] attention output */
    float *g, *u;         /* [N, I] */
    float *scores;        /* [T, T] */
    float *cos_t, *sin_t; /* [T, hd/2] */
};

rf_dec_work *rf_dec_work_new(const rf_dec_config *c, int nseq, int T) {
    rf_dec_work *w = rf_calloc(1, sizeof *w);
    int64_t N = (int64_t)nseq * T, qd = (int64_t)c->heads * c->head_dim,
            kd = (int64_t)c->kv_heads * c->head_dim;
    w->nseq = nseq;
    w->T = T;
    w->xn = rf_malloc((size_t)(N * c->hidden) * sizeof(float));
    w->q = rf_malloc((size_t)(N * qd) * sizeof(float));
    w->k = rf_malloc((size_t)(N * kd) * sizeof(float));
    w->v = rf_malloc((size_t)(N * kd) * sizeof(float));
    w->att = rf_malloc((size_t)(N * qd) * sizeof(float));
    w->g = rf_malloc((size_t)(N * c->intermediate) * sizeof(float));
    w->u = rf_malloc((size_t)(N * c->intermediate) * sizeof(float));
    w->scores = rf_malloc((size_t)T * T * sizeof(float));
    w->cos_t = rf_malloc((size_t)T * (c->head_dim / 2) * sizeof(float));
    w->sin_t = rf_malloc((size_t)T * (c->head_dim / 2) * sizeof(float));
    rf_dec_rope_table(c, T, w->cos_t, w->sin_t);
    return w;
}

double rf_dec_work_bytes(const rf_dec_config *c, int nseq, int T) {
    double N = (double)nseq * T, qd = (double)c->heads * c->head_dim,
           kd = (double)c->kv_heads * c->head_dim;
    return 4 * (N * (c->hidden + 2 * qd + 2 * kd + 2.0 * c->intermediate) + (double)T * T +
                (double)T * c->head_dim);
}

double rf_dec_layer_bytes(const rf_dec_config *c) {
    double H = c->hidden, qd = (double)c->heads * c->head_dim,
           kd = (double)c->kv_heads * c->head_dim;
    return 4 * (2 * H * qd + 2 * H * kd + 3 * H * c->intermediate /* matrices */
                + qd + 2 * kd + H                                   /* biases */
                + 2 * H + 2.0 * c->head_dim);                       /* norms */
}

void rf_dec_work_free(rf_dec_work *w) {
    if (!w) return;
    float *bufs[] = {w->xn, w->q, w->k, w->v, w->att, w->g, w->u, w->scores, w->cos_t, w->sin_t};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(w);
}

/* y [N, out] = x [N, in] W^T (+ bias), or += when accumulate (the residual add). */
static void linear(const float *x, const float *W, const float *bias, float *y, int64_t N, int out,
                   int in, int accumulate) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, out, in, 1.0f, x, in, W, in,
                accumulate ? 1.0f : 0.0f, y, out);
    if (!bias) return;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; r++)
        for (int j = 0; j < out; j++) y[r * out + j] += bias[j];
}

/* Causal softmax of each row of s [T, T] in place, row t over columns 0..t (the rest zeroed). */
static void causal_softmax(float *s, int T) {
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        float *row = s + (int64_t)t * T;
        float m = row[0];
        for (int j = 1; j <= t; j++) m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (int j = 0; j <= t; j++) {
            row[j] = expf(row[j] - m);
            sum += row[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j <= t; j++) row[j] *= inv;
        memset(row + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
    }
}

static void attention(const rf_dec_config *c, rf_dec_work *w, int nseq, int T) {
    int hd = c->head_dim, qd = c->heads * hd, kd = c->kv_heads * hd, group = c->heads / c->kv_heads;
    float scale = (float)(1.0 / sqrt((double)hd));
    for (int s = 0; s < nseq; s++) {
        int64_t r0 = (int64_t)s * T;
        for (int h = 0; h < c->heads; h++) {
            const float *q = w->q + r0 * qd + (int64_t)h * hd;
            const float *k = w->k + r0 * kd + (int64_t)(h / group) * hd;
            const float *v = w->v + r0 * kd + (int64_t)(h / group) * hd;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, q, qd, k, kd,
                        0.0f, w->scores, T);
            causal_softmax(w->scores, T);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, w->scores, T, v,
                        kd, 0.0f, w->att + r0 * qd + (int64_t)h * hd, qd);
        }
    }
}

void rf_dec_layer_forward(const rf_dec_config *c, const rf_dec_layer *l, rf_dec_work *w, float *x,
                          int nseq, int T, rf_dec_tap_fn tap, void *tap_ctx) {
    rf_check(nseq <= w->nseq && T == w->T, "decoder scratch made for %d x %d, used for %d x %d",
             w->nseq, w->T, nseq, T);
    int64_t N = (int64_t)nseq * T;
    int H = c->hidden, F = c->intermediate, hd = c->head_dim;
    int qd = c->heads * hd, kd = c->kv_heads * hd;

    rf_dec_rmsnorm(x, l->input_norm, w->xn, N, H, c->rms_eps);
    if (tap) tap(tap_ctx, RF_TAP_QKV, w->xn, N, H);
    linear(w->xn, l->wq, l->bq, w->q, N, qd, H, 0);
    linear(w->xn, l->wk, l->bk, w->k, N, kd, H, 0);
    linear(w->xn, l->wv, l->bv, w->v, N, kd, H, 0);
    if (l->q_norm) rf_dec_rmsnorm(w->q, l->q_norm, w->q, N * c->heads, hd, c->rms_eps);
    if (l->k_norm) rf_dec_rmsnorm(w->k, l->k_norm, w->k, N * c->kv_heads, hd, c->rms_eps);
    for (int s = 0; s < nseq; s++) {
        rf_dec_rope_apply(w->q + (int64_t)s * T * qd, qd, T, c->heads, hd, w->cos_t, w->sin_t);
        rf_dec_rope_apply(w->k + (int64_t)s * T * kd, kd, T, c->kv_heads, hd, w->cos_t, w->sin_t);
    }
    attention(c, w, nseq, T);
    if (tap) tap(tap_ctx, RF_TAP_O, w->att, N, qd);
    linear(w->att, l->wo, l->bo, x, N, H, qd, 1);

    rf_dec_rmsnorm(x, l->post_norm, w->xn, N, H, c->rms_eps);
    if (tap) tap(tap_ctx, RF_TAP_GATE_UP, w->xn, N, H);
    linear(w->xn, l->wg, NULL, w->g, N, F, H, 0);
    linear(w->xn, l->wu, NULL, w->u, N, F, H, 0);
    rf_dec_swiglu(w->g, w->u, N * F);
    if (tap) tap(tap_ctx, RF_TAP_DOWN, w->g, N, F);
    linear(w->g, l->wd, NULL, x, N, H, F, 1);
}
