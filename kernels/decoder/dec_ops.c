/* dec_ops.c -- the element-wise parts of the decoder that the fast path and the _ref twins share:
 * RMSNorm over rows, RoPE's frequencies (Hugging Face's default, "linear" and "llama3" rules) and
 * their rotation of one sequence's heads, SwiGLU's silu(g) * u. */
#include <math.h>

#include "kernels/decoder/dec_internal.h"

void rf_dec_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int n, double eps) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)xr[i] * xr[i];
        /* transformers: x * rsqrt(mean(x^2) + eps) in float32, then times the weight */
        float inv = (float)(1.0 / sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) yr[i] = w[i] * (xr[i] * inv);
    }
}

void rf_dec_inv_freq(const rf_dec_config *c, double *inv_freq) {
    int half = c->head_dim / 2;
    for (int i = 0; i < half; i++) {
        double f = 1.0 / pow(c->rope_theta, (2.0 * i) / c->head_dim);
        if (c->rope_kind == RF_ROPE_LINEAR) f /= c->rope_factor;
        if (c->rope_kind == RF_ROPE_LLAMA3) {
            /* long wavelengths are slowed by factor, short ones kept, the band between blended */
            double wavelen = 2 * M_PI / f;
            double low_wavelen = c->rope_orig_ctx / c->rope_low_freq;
            double high_wavelen = c->rope_orig_ctx / c->rope_high_freq;
            if (wavelen > low_wavelen) {
                f /= c->rope_factor;
            } else if (wavelen >= high_wavelen) {
                double s = (c->rope_orig_ctx / wavelen - c->rope_low_freq) /
                           (c->rope_high_freq - c->rope_low_freq);
                f = (1 - s) * f / c->rope_factor + s * f;
            }
        }
        inv_freq[i] = f;
    }
}

void rf_dec_rope_table(const rf_dec_config *c, int T, float *cos_t, float *sin_t) {
    int half = c->head_dim / 2;
    double inv_freq[half];
    rf_dec_inv_freq(c, inv_freq);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double a = t * inv_freq[i];
            cos_t[(int64_t)t * half + i] = (float)cos(a);
            sin_t[(int64_t)t * half + i] = (float)sin(a);
        }
}

void rf_dec_rope_apply(float *q, int64_t ld, int T, int nheads, int hd, const float *cos_t,
                       const float *sin_t) {
    int half = hd / 2;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nheads; h++) {
            /* rotate_half pairs element i with element i + hd/2 */
            float *v = q + (int64_t)t * ld + (int64_t)h * hd;
            const float *cs = cos_t + (int64_t)t * half, *sn = sin_t + (int64_t)t * half;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * cs[i] - b * sn[i];
                v[i + half] = b * cs[i] + a * sn[i];
            }
        }
}

void rf_dec_swiglu(float *g, const float *u, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}
