/* dec_ref.c -- the _ref twin of one decoder layer (dec_layer.c): plain loops, double sums, one
 * position at a time, attention as written on paper. For small shapes in tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/decoder/dec_internal.h"

/* y [N, out] = x W^T + bias, one dot product at a time. */
static void linear_ref(const float *x, const float *W, const float *bias, float *y, int64_t N,
                       int out, int in) {
    for (int64_t r = 0; r < N; r++)
        for (int j = 0; j < out; j++) {
            double s = bias ? bias[j] : 0.0;
            for (int i = 0; i < in; i++) s += (double)x[r * in + i] * W[(int64_t)j * in + i];
            y[r * out + j] = (float)s;
        }
}

static void attention_ref(const rf_dec_config *c, const float *q, const float *k, const float *v,
                          float *att, int T) {
    int hd = c->head_dim, qd = c->heads * hd, kd = c->kv_heads * hd;
    int group = c->heads / c->kv_heads;
    double *p = rf_malloc((size_t)T * sizeof(double));
    for (int h = 0; h < c->heads; h++) {
        int kh = h / group;
        for (int t = 0; t < T; t++) {
            double m = -INFINITY, sum = 0;
            for (int j = 0; j <= t; j++) {
                double s = 0;
                for (int i = 0; i < hd; i++)
                    s += (double)q[(int64_t)t * qd + h * hd + i] * k[(int64_t)j * kd + kh * hd + i];
                p[j] = s / sqrt((double)hd);
                m = p[j] > m ? p[j] : m;
            }
            for (int j = 0; j <= t; j++) sum += p[j] = exp(p[j] - m);
            for (int i = 0; i < hd; i++) {
                double o = 0;
                for (int j = 0; j <= t; j++) o += p[j] / sum * v[(int64_t)j * kd + kh * hd + i];
                att[(int64_t)t * qd + h * hd + i] = (float)o;
            }
        }
    }
    free(p);
}

void rf_dec_layer_forward_ref(const rf_dec_config *c, const rf_dec_layer *l, float *x, int nseq,
                              int T, rf_dec_tap_fn tap, void *tap_ctx) {
    int64_t N = (int64_t)nseq * T;
    int H = c->hidden, I = c->intermediate, hd = c->head_dim;
    int qd = c->heads * hd, kd = c->kv_heads * hd;
    float *xn = rf_malloc((size_t)(N * H) * sizeof(float));
    float *q = rf_malloc((size_t)(N * qd) * sizeof(float));
    float *k = rf_malloc((size_t)(N * kd) * sizeof(float));
    float *v = rf_malloc((size_t)(N * kd) * sizeof(float));
    float *att = rf_malloc((size_t)(N * qd) * sizeof(float));
    float *g = rf_malloc((size_t)(N * I) * sizeof(float));
    float *u = rf_malloc((size_t)(N * I) * sizeof(float));
    float *y = rf_malloc((size_t)(N * H) * sizeof(float));
    float *cos_t = rf_malloc((size_t)T * (hd / 2) * sizeof(float));
    float *sin_t = rf_malloc((size_t)T * (hd / 2) * sizeof(float));
    rf_dec_rope_table(c, T, cos_t, sin_t);

    rf_dec_rmsnorm(x, l->input_norm, xn, N, H, c->rms_eps);
    if (tap) tap(tap_ctx, RF_TAP_QKV, xn, N, H);
    linear_ref(xn, l->wq, l->bq, q, N, qd, H);
    linear_ref(xn, l->wk, l->bk, k, N, kd, H);
    linear_ref(xn, l->wv, l->bv, v, N, kd, H);
    if (l->q_norm) rf_dec_rmsnorm(q, l->q_norm, q, N * c->heads, hd, c->rms_eps);
    if (l->k_norm) rf_dec_rmsnorm(k, l->k_norm, k, N * c->kv_heads, hd, c->rms_eps);
    for (int s = 0; s < nseq; s++) {
        int64_t r0 = (int64_t)s * T;
        rf_dec_rope_apply(q + r0 * qd, qd, T, c->heads, hd, cos_t, sin_t);
        rf_dec_rope_apply(k + r0 * kd, kd, T, c->kv_heads, hd, cos_t, sin_t);
        attention_ref(c, q + r0 * qd, k + r0 * kd, v + r0 * kd, att + r0 * qd, T);
    }
    if (tap) tap(tap_ctx, RF_TAP_O, att, N, qd);
    linear_ref(att, l->wo, l->bo, y, N, H, qd);
    for (int64_t i = 0; i < N * H; i++) x[i] += y[i];

    rf_dec_rmsnorm(x, l->post_norm, xn, N, H, c->rms_eps);
    if (tap) tap(tap_ctx, RF_TAP_GATE_UP, xn, N, H);
    linear_ref(xn, l->wg, NULL, g, N, I, H);
    linear_ref(xn, l->wu, NULL, u, N, I, H);
    for (int64_t i = 0; i < N * I; i++) g[i] = (float)(g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
    if (tap) tap(tap_ctx, RF_TAP_DOWN, g, N, I);
    linear_ref(g, l->wd, NULL, y, N, H, I);
    for (int64_t i = 0; i < N * H; i++) x[i] += y[i];

    float *bufs[] = {xn, q, k, v, att, g, u, y, cos_t, sin_t};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
}
