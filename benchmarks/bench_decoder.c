/* bench_decoder.c -- tokens/s of one decoder layer's forward pass (kernels/decoder) at
 * Qwen3-4B's shape (hidden 2560, intermediate 9728, 32 heads and 8 kv heads of 128), one sequence
 * of --seqlen tokens, against its floor: the layer's FLOP at this machine's sgemm rate, measured
 * in the same run (kernels/blas_rate.h).
 *
 *   FLOP per sequence = 2 T P (P: the layer's matrix parameters; projections and MLP)
 *                     + 4 T^2 nh hd (scores Q K^T and P V, full T x T: the fast path computes the
 *                       masked half too)
 * Also times the same layer with calibrate's taps (X^T X of the four inputs, float64 dsyrk), whose
 * floor adds T (2 H^2 + (nh hd)^2 + I^2) FLOP at half the float32 rate.
 *
 * usage: bench_decoder [--seqlen 2048] [--reps 2]      (OMP_NUM_THREADS threads) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "common/rf_rng.h"
#include "kernels/decoder/decoder.h"

static float *randn(rf_rng *r, int64_t n, double sd) {
    float *x = rf_malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = (float)(sd * rf_rng_normal(r));
    return x;
}

static float *ones(int n) {
    float *x = rf_malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) x[i] = 1.0f;
    return x;
}

/* calibrate's work on a tap: the input in float64, then X^T X added into acc */
typedef struct {
    double *xd, *acc[RF_TAP_COUNT];
} taps;

static void tap(void *ctx, rf_dec_tap t, const float *x, int64_t rows, int cols) {
    taps *s = ctx;
    for (int64_t i = 0; i < rows * cols; i++) s->xd[i] = x[i];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, (int)rows, 1.0, s->xd, cols, 1.0,
                s->acc[t], cols);
}

int main(int argc, char **argv) {
    int T = 2048, reps = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seqlen")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_decoder: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    rf_dec_config c = {.hidden = 2560, .intermediate = 9728, .heads = 32, .kv_heads = 8,
                       .head_dim = 128, .vocab = 0, .rms_eps = 1e-6, .rope_theta = 1e6};
    int H = c.hidden, F = c.intermediate, qd = c.heads * c.head_dim, kd = c.kv_heads * c.head_dim;
    rf_rng r;
    rf_rng_init(&r, 1);
    rf_dec_layer l = {.input_norm = ones(H), .post_norm = ones(H), .q_norm = ones(c.head_dim),
                      .k_norm = ones(c.head_dim),
                      .wq = randn(&r, (int64_t)qd * H, 0.02), .wk = randn(&r, (int64_t)kd * H, 0.02),
                      .wv = randn(&r, (int64_t)kd * H, 0.02), .wo = randn(&r, (int64_t)H * qd, 0.02),
                      .wg = randn(&r, (int64_t)F * H, 0.02), .wu = randn(&r, (int64_t)F * H, 0.02),
                      .wd = randn(&r, (int64_t)H * F, 0.02)};
    float *x0 = randn(&r, (int64_t)T * H, 1.0), *x = rf_malloc((size_t)T * H * sizeof(float));
    rf_dec_work *w = rf_dec_work_new(&c, 1, T);
    double P = (double)H * (qd + 2 * kd) + (double)qd * H + 3.0 * H * F;
    double flop = 2.0 * T * P + 4.0 * T * (double)T * qd;
    double tap_flop = (double)T * (2.0 * H * H + (double)qd * qd + (double)F * F);

    /* the floor's rate measured before and after (the best of both): on a shared machine a
     * single measurement can fall in a busy moment and flatter the kernel */
    double rate = rf_sgemm_rate(2048, 3), t, tt;
    BEST(t, reps, (memcpy(x, x0, (size_t)T * H * sizeof(float)),
                   rf_dec_layer_forward(&c, &l, w, x, 1, T, NULL, NULL)));
    taps s = {.xd = rf_malloc((size_t)T * F * sizeof(double))};
    const int dims[RF_TAP_COUNT] = {H, qd, H, F};
    for (int k = 0; k < RF_TAP_COUNT; k++)
        s.acc[k] = rf_calloc((size_t)dims[k] * dims[k], sizeof(double));
    BEST(tt, reps, (memcpy(x, x0, (size_t)T * H * sizeof(float)),
                    rf_dec_layer_forward(&c, &l, w, x, 1, T, tap, &s)));

    double after = rf_sgemm_rate(2048, 3);
    rate = after > rate ? after : rate;
    printf("bench_decoder: Qwen3-4B layer (H %d, I %d, %d/%d heads of %d), seqlen %d, %d threads, "
           "OpenBLAS %s\n", H, F, c.heads, c.kv_heads, c.head_dim, T, omp_get_max_threads(),
           rf_blas_core());
    printf("  sgemm rate (2048^3)        %8.1f GFLOP/s\n", rate / 1e9);
    printf("  forward                    %8.3f s  %8.0f tokens/s  %5.1f%% of the sgemm floor "
           "(%.1f GFLOP)\n", t, T / t, 100.0 * flop / rate / t, flop / 1e9);
    printf("  forward + calibrate taps   %8.3f s  %8.0f tokens/s  %5.1f%% of the floor "
           "(+%.1f GFLOP float64 at half rate)\n", tt, T / tt,
           100.0 * (flop / rate + 2.0 * tap_flop / rate) / tt, tap_flop / 1e9);
    return 0;
}
