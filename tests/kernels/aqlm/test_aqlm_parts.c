/* test_aqlm_parts.c -- the small AQLM parts against their _ref twins and hand values: candidate
 * scoring (top-k), k-means assignment and fitting (and its progress), dequantization (aqlm.h's
 * formula), errors (NaN where undefined), bits per weight, Adam, scales, the configuration
 * checks' messages and the quick configuration. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "aqlm_fixtures.h"
#include "common/rf_half.h"
#include "tests/fixtures/simd_path.h"

/* The fast and the ref top lists agree: same scores (to float rounding), and the same indices
 * except where two scores are that close. */
static void check_topk(int64_t n, int d, int K, int top, int with_a) {
    rf_rng r;
    rf_rng_init(&r, 1000 + (uint64_t)(n * d + K + top));
    float *x = fx_randn(&r, n * d, 1.0), *C = fx_randn(&r, (int64_t)K * d, 1.0);
    float *a = with_a ? fx_randn(&r, n, 1.0) : NULL, *N = rf_malloc(sizeof(float) * K);
    for (int64_t i = 0; with_a && i < n; i++) a[i] = 0.5f + a[i] * a[i];
    aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
    int32_t *i1 = rf_malloc(sizeof(int32_t) * n * top), *i2 = rf_malloc(sizeof(int32_t) * n * top);
    float *v1 = rf_malloc(sizeof(float) * n * top), *v2 = rf_malloc(sizeof(float) * n * top);
    aqlm_topk_scores(x, a, n, d, C, N, K, top, i1, v1);
    aqlm_topk_scores_ref(x, a, n, d, C, N, K, top, i2, v2);
    for (int64_t j = 0; j < n * top; j++) {
        assert_true(fabsf(v1[j] - v2[j]) <= 1e-4f * (1 + fabsf(v2[j])));
        if (i1[j] != i2[j]) assert_true(fabsf(v2[j] - v1[j]) <= 1e-4f * (1 + fabsf(v2[j])));
        if (j % top) assert_true(v1[j - 1] <= v1[j]); /* ascending */
    }
    free(v2), free(v1), free(i2), free(i1), free(N), free(a), free(C), free(x);
}

static void test_topk_vs_ref(void **state) {
    (void)state;
    check_topk(37, 8, 1000, 1, 1); /* blocks of 32 vectors: one full, one of 5 */
    check_topk(37, 8, 1024, 3, 1);
    check_topk(300, 8, 1027, 4, 1); /* top k, the last K mod 4 codewords one at a time */
    check_topk(5, 16, 256, 1, 0);
    check_topk(70, 12, 64, 1, 1); /* d without an unrolled copy */
    check_topk(6, 4, 8, 4, 1);
    check_topk(3, 24, 2, 1, 1);
    check_topk(600, 4, 9000, 3, 1); /* several groups of blocks and chunks of codewords */
    check_topk(530, 16, 2100, 1, 0);
    /* from 1024 codewords on, top 1 scans groups of codewords (aqlm_score_simd.c): with a, a d
     * without an unrolled copy, a last group of fewer */
    check_topk(300, 8, 3001, 1, 1);
    check_topk(70, 12, 2051, 1, 1);
    check_topk(40, 4, 1027, 1, 0);
}

static void topk_paths_agree(int K, int top) {
    enum { n = 77, d = 16, TOP_MAX = 4 };
    assert_true(top <= TOP_MAX);
    rf_rng r;
    rf_rng_init(&r, 31);
    float *x = fx_randn(&r, n * d, 1.0), *C = fx_randn(&r, (int64_t)K * d, 1.0);
    float *a = fx_randn(&r, n, 1.0), *N = rf_malloc(sizeof(float) * K);
    float val[RF_SIMD_NPATHS][n * TOP_MAX];
    int32_t idx[RF_SIMD_NPATHS][n * TOP_MAX];
    aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
    const int chosen = rf_simd_path();
    for (int p = 0; p < RF_SIMD_NPATHS; p++) {
        if (rf_simd_set(p) != RF_OK) {
            printf("path %s: not on this CPU\n", rf_simd_name(p));
            continue;
        }
        aqlm_topk_scores(x, a, n, d, C, N, K, top, idx[p], val[p]);
        for (int j = 0; j < n * top; j++) {
            assert_true(fabsf(val[p][j] - val[0][j]) <= 1e-4f * (1 + fabsf(val[0][j])));
            if (idx[p][j] != idx[0][j])
                assert_true(fabsf(val[p][j] - val[0][j]) <= 1e-4f * (1 + fabsf(val[0][j])));
        }
        if (p == RF_SIMD_AVX512 && rf_simd_supported(RF_SIMD_AVX2)) {
            assert_memory_equal(val[p], val[RF_SIMD_AVX2], sizeof(float) * n * top);
            assert_memory_equal(idx[p], idx[RF_SIMD_AVX2], sizeof(int32_t) * n * top);
        }
    }
    assert_int_equal(rf_simd_set(chosen), RF_OK);
    free(N), free(a), free(C), free(x);
}

/* Every path this CPU runs gives the same lists within the tolerance above; the paths with FMA
 * (avx2, avx512) the same bits, whatever their vector widths, blockings and groupings. */
static void test_topk_paths_agree(void **state) {
    (void)state;
    topk_paths_agree(300, 4);
    topk_paths_agree(300, 1);  /* each codeword followed */
    topk_paths_agree(1100, 1); /* groups of codewords (K >= 1024) */
}

/* Copies of the nearest codeword at `copies` (ascending): the first is chosen, scaled by a or
 * not, in every case of the top 1 scan (one group, several, the last K mod 4 alone) and for
 * top 3. */
static void topk_ties(int K, const int *copies, int ncopies, float scale) {
    enum { d = 8 };
    rf_rng r;
    rf_rng_init(&r, 7);
    float *C = fx_randn(&r, (int64_t)K * d, 1.0), x[d], *N = rf_malloc(sizeof(float) * K);
    for (int e = 0; e < d; e++) x[e] = 5.0f * (e + 1);
    for (int j = 0; j < ncopies; j++) memcpy(C + copies[j] * d, x, sizeof x);
    aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
    int32_t idx[3];
    float val[3];
    const float *a = scale > 0 ? &scale : NULL;
    aqlm_topk_scores(x, a, 1, d, C, N, K, 1, idx, val);
    assert_int_equal(idx[0], copies[0]);
    aqlm_topk_scores(x, a, 1, d, C, N, K, 3, idx, val);
    for (int j = 0; j < 3 && j < ncopies; j++) assert_int_equal(idx[j], copies[j]);
    free(N), free(C);
}

static void test_topk_ties_prefer_lower_index(void **state) {
    (void)state;
    const int spread[] = {3, 100, 515, 3000}, one_group[] = {1, 2}, last[] = {4097, 4098};
    topk_ties(4096, spread, 4, 0);
    topk_ties(4096, spread, 4, 0.75f);
    topk_ties(300, spread, 2, 0.75f);
    topk_ties(4096, one_group, 2, 0);
    topk_ties(4099, last, 2, 0.75f);
}

static void test_codeword_norms(void **state) {
    (void)state;
    /* og 2, ig 2: N = sum over both rows of c_a^T H c_a */
    float C[] = {1, 2, 3, 4}, H[] = {2, 1, 9, 9, 1, 3, 9, 9}; /* H [2, 2] with row stride 4 */
    float N;
    aqlm_codeword_norms(C, 1, 2, 2, H, 4, &N);
    /* row (1,2): 2 + 2*2 + 3*4 = 18 ; row (3,4): 18 + 24 + 48 = 90 */
    assert_float_equal(N, 108.0f, 1e-5f);
    aqlm_codeword_norms(C, 1, 2, 2, NULL, 0, &N);
    assert_float_equal(N, 30.0f, 1e-6f);
}

static void test_kmeans_assign_vs_ref(void **state) {
    (void)state;
    enum { n = 1000, d = 8, K = 300 };
    rf_rng r;
    rf_rng_init(&r, 11);
    float *x = fx_randn(&r, n * d, 1.0), *C = fx_randn(&r, K * d, 1.0);
    int32_t a1[n], a2[n];
    assert_int_equal(aqlm_kmeans_assign(x, n, d, C, K, a1, NULL), RF_OK);
    aqlm_kmeans_assign_ref(x, n, d, C, K, a2);
    int same = 0;
    for (int i = 0; i < n; i++) {
        same += a1[i] == a2[i];
        double d1 = 0, d2 = 0;
        for (int e = 0; e < d; e++) {
            d1 += pow(x[i * d + e] - C[a1[i] * d + e], 2);
            d2 += pow(x[i * d + e] - C[a2[i] * d + e], 2);
        }
        assert_true(d1 <= d2 + 1e-5 * (1 + d2)); /* a different pick must be a tie */
    }
    assert_true(same >= n - 2);
    free(C), free(x);
}

/* Two separated blobs: Lloyd recovers them from any two distinct starting points, and ends at a
 * fixed point (each centroid the mean of its points). */
static void test_kmeans_separable(void **state) {
    (void)state;
    enum { n = 400, d = 4, K = 2 };
    rf_rng r;
    rf_rng_init(&r, 5);
    float x[n * d], C[K * d];
    for (int i = 0; i < n; i++)
        for (int e = 0; e < d; e++)
            x[i * d + e] =
                (float)((i % 2 ? 20.0 : -20.0) + (e == 0 ? 5.0 : 0.0) + rf_rng_normal(&r));
    for (uint64_t seed = 0; seed < 10; seed++) {
        rf_rng_init(&r, seed);
        int iters = 0;
        assert_int_equal(aqlm_kmeans_fit(x, n, d, K, 100, &r, C, NULL, &iters), RF_OK);
        assert_true(iters >= 2 && iters < 100); /* converged, not capped */
        int32_t a[n];
        assert_int_equal(aqlm_kmeans_assign(x, n, d, C, K, a, NULL), RF_OK);
        for (int i = 2; i < n; i++) assert_int_equal(a[i], a[i % 2]);
        assert_int_not_equal(a[0], a[1]);
        for (int k = 0; k < K; k++)
            for (int e = 0; e < d; e++) {
                double s = 0;
                for (int i = 0; i < n; i++) s += a[i] == k ? x[i * d + e] : 0;
                assert_float_equal(C[k * d + e], s / (n / 2), 1e-4);
            }
    }
}

static void test_dequantize_formula(void **state) {
    (void)state;
    /* out 4, in 4, og 2, ig 2, M 2, K 2 (nbits 1): hand-checked entries. */
    rf_aqlm_config c = fx_config(2, 1, 2, 2, 1);
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, 4, 4, &c);
    for (int j = 0; j < 2 * 2 * 4; j++) q.codebooks[j] = (float)(j + 1); /* [m, k, a, b] */
    uint16_t codes[] = {0, 1, 1, 0, 1, 1, 0, 0};                         /* [o, i, m] */
    memcpy(q.codes, codes, sizeof codes);
    q.scales[0] = 2, q.scales[1] = -1;
    float Wf[16], Wr[16];
    rf_aqlm_dequantize(&q, Wf);
    rf_aqlm_dequantize_ref(&q, Wr);
    /* W[0,0] = 2*(cb[0,0,0,0] + cb[1,1,0,0]) = 2*(1 + 13)
     * W[1,3] = 2*(cb[0,1,1,1] + cb[1,0,1,1]) = 2*(8 + 12) */
    assert_float_equal(Wf[0], 28, 0);
    assert_float_equal(Wf[1 * 4 + 3], 2 * (8 + 12), 0);
    /* W[3,2]: o 1, i 1, codes (0, 0), a 1, b 0: -(cb[0,0,1,0] + cb[1,0,1,0]) = -(3 + 11) */
    assert_float_equal(Wf[3 * 4 + 2], -14, 0);
    assert_memory_equal(Wf, Wr, sizeof Wf);
    rf_aqlm_free(&q);

    rf_rng r; /* bigger random shapes: bit-identical to the ref */
    rf_rng_init(&r, 3);
    c = fx_config(3, 5, 2, 4, 1);
    fx_random_q(&r, &q, 24, 40, &c);
    float *a = rf_malloc(24 * 40 * sizeof *a), *b = rf_malloc(24 * 40 * sizeof *b);
    rf_aqlm_dequantize(&q, a);
    rf_aqlm_dequantize_ref(&q, b);
    assert_memory_equal(a, b, 24 * 40 * sizeof *a);
    free(b), free(a);
    rf_aqlm_free(&q);
}

static void test_errors_vs_ref(void **state) {
    (void)state;
    enum { out = 12, in = 300 }; /* in crosses a 128-column panel boundary */
    rf_rng r;
    rf_rng_init(&r, 9);
    rf_aqlm_config c = fx_config(2, 4, 2, 4, 1);
    rf_aqlm_matrix q;
    fx_random_q(&r, &q, out, in, &c);
    float *W = fx_randn(&r, out * in, 0.5), *X = fx_xtx(&r, in);
    double a1, w1, a2, w2;
    for (int with_xtx = 0; with_xtx < 2; with_xtx++) {
        rf_aqlm_errors(W, with_xtx ? X : NULL, &q, &a1, &w1);
        aqlm_errors_ref(W, with_xtx ? X : NULL, &q, &a2, &w2);
        assert_true(fabs(a1 - a2) <= 1e-10 * a2);
        assert_true(fabs(w1 - w2) <= 1e-10 * w2);
        if (!with_xtx) assert_true(fabs(a1 - w1 * w1) <= 1e-12);
    }
    rf_aqlm_dequantize(&q, W); /* W = Wq exactly: zero error */
    rf_aqlm_errors(W, X, &q, &a1, &w1);
    assert_true(a1 == 0 && w1 == 0);
    free(X), free(W);
    rf_aqlm_free(&q);
}

/* A ratio with a denominator <= 0 is undefined: NaN from both twins, never 0. */
static void test_errors_undefined(void **state) {
    (void)state;
    enum { out = 4, in = 16 };
    rf_rng r;
    rf_rng_init(&r, 5);
    rf_aqlm_config c = fx_config(1, 2, 1, 4, 1);
    rf_aqlm_matrix q;
    fx_random_q(&r, &q, out, in, &c);
    float *W = fx_randn(&r, out * in, 1), *X = rf_calloc(in * in, sizeof *X);
    for (int i = 0; i < in; i++) X[i * in + i] = -1; /* XTX = -I: tr(W XTX W^T) < 0 */
    double a, w;
    rf_aqlm_errors(W, X, &q, &a, &w);
    assert_true(isnan(a) && w > 0);
    aqlm_errors_ref(W, X, &q, &a, &w);
    assert_true(isnan(a) && w > 0);
    memset(W, 0, out * in * sizeof *W); /* W = 0: both ratios are 0 / 0 */
    for (int with_xtx = 0; with_xtx < 2; with_xtx++) {
        rf_aqlm_errors(W, with_xtx ? X : NULL, &q, &a, &w);
        assert_true(isnan(a) && isnan(w));
        aqlm_errors_ref(W, with_xtx ? X : NULL, &q, &a, &w);
        assert_true(isnan(a) && isnan(w));
    }
    free(X), free(W);
    rf_aqlm_free(&q);
}

/* Scales are the out-groups' L2 norms + 1e-9, Wn = W / scale; hand values for og 1 and 2. */
static void test_init_scales(void **state) {
    (void)state;
    const float W[4 * 2] = {3, 4, 0, 0, 1, 2, 2, 0};
    float s[4], Wn[8];
    assert_int_equal(aqlm_init_scales(W, 4, 2, 1, s, Wn), RF_OK);
    const float want1[4] = {5, 1e-9f, 2.236068f, 2};
    for (int o = 0; o < 4; o++) assert_float_equal(s[o], want1[o], 1e-6 * want1[o]);
    assert_true(Wn[0] == 3 / s[0] && Wn[1] == 4 / s[0] && Wn[2] == 0 && Wn[6] == 1);
    assert_int_equal(aqlm_init_scales(W, 4, 2, 2, s, Wn), RF_OK);
    assert_float_equal(s[0], 5, 1e-6), assert_float_equal(s[1], 3, 1e-6);
    assert_true(Wn[5] == 2 / s[1]);
}

/* The k-means fit reports into its share, rising to its end when it runs every iteration, one
 * report per iteration here (one batch of points); a nonzero answer stops it at that report. */
typedef struct {
    double at[64];
    int n, cancel_at;
} fit_log;

static int fit_record(void *ctx, const rf_progress_point *at) {
    fit_log *f = ctx;
    f->at[f->n++] = at->fraction;
    return f->n == f->cancel_at;
}

static void test_kmeans_progress(void **state) {
    (void)state;
    enum { n = 600, d = 4, K = 8, ITERS = 7 };
    rf_rng r;
    rf_rng_init(&r, 3);
    float *x = fx_randn(&r, n * d, 1.0), C[K * d];
    fit_log log = {.cancel_at = 0};
    const aqlm_progress p = {fit_record, &log, 0.25, 0.5};
    int iters = 0;
    rf_rng_init(&r, 4);
    assert_int_equal(aqlm_kmeans_fit(x, n, d, K, ITERS, &r, C, &p, &iters), RF_OK);
    assert_int_equal(iters, ITERS); /* random points do not settle in 7 iterations */
    assert_int_equal(log.n, ITERS);
    for (int i = 0; i < ITERS; i++)
        assert_float_equal(log.at[i], 0.25 + 0.5 * (i + 1) / ITERS, 1e-15);
    fit_log cut = {.cancel_at = 3};
    const aqlm_progress pc = {fit_record, &cut, 0.25, 0.5};
    rf_rng_init(&r, 4);
    assert_int_equal(aqlm_kmeans_fit(x, n, d, K, ITERS, &r, C, &pc, &iters), RF_CANCELLED);
    assert_int_equal(cut.n, 3);
    free(x);
}

/* The quick configuration: 2x8, groups of 8, 10 epochs x 20 steps, 20 k-means iterations, the
 * rest AQLM's defaults; it fits the embedded model's shapes. */
static void test_config_quick(void **state) {
    (void)state;
    rf_aqlm_config q = rf_aqlm_config_quick(), d = rf_aqlm_config_default();
    assert_int_equal(q.num_codebooks, 2);
    assert_int_equal(q.nbits_per_codebook, 8);
    assert_int_equal(q.in_group_size, 8);
    assert_int_equal(q.max_epochs, 10);
    assert_int_equal(q.steps_per_epoch, 20);
    assert_int_equal(q.init_max_iter, 20);
    assert_int_equal(q.out_group_size, d.out_group_size);
    assert_int_equal(q.beam_size, d.beam_size);
    assert_true(q.lr == d.lr && q.relative_mse_tolerance == d.relative_mse_tolerance);
    assert_int_equal(q.init_max_points_per_centroid, d.init_max_points_per_centroid);
    assert_int_equal(rf_aqlm_check_config(&q, 256, 512), RF_OK);
}

static void test_bits_per_weight(void **state) {
    (void)state;
    rf_aqlm_config c = fx_config(2, 8, 1, 8, 1);
    assert_float_equal(rf_aqlm_bits_per_weight(256, 512, &c), 2 + 0.5 + 0.03125, 1e-12);
    c = fx_config(1, 16, 1, 8, 1); /* 2 + 65536*8*16/4096^2 + 16*4096/4096^2 */
    assert_float_equal(rf_aqlm_bits_per_weight(4096, 4096, &c), 2.50390625, 1e-12);
    c = fx_config(1, 8, 2, 4, 1); /* 1 + 256*8*16/(1024*2560) + 16*512/(1024*2560) */
    assert_float_equal(rf_aqlm_bits_per_weight(1024, 2560, &c), 1.015625, 1e-12);
}

/* The work split by loop adds up to the total; the k-means part is the initialization (M fits of
 * init_max_iter iterations on at most init_max_points_per_centroid K groups, then the assignment
 * of every group), the beam part every epoch's scoring of K codewords per codebook and
 * hypothesis. */
static void test_predicted_work(void **state) {
    (void)state;
    rf_aqlm_config c = fx_config(2, 8, 2, 4, 3);
    c.max_epochs = 5;
    c.init_max_iter = 7;
    c.init_max_points_per_centroid = 2;
    const double groups = 256.0 * 512 / 8, K = 256, d = 8, fit = 2 * K;
    const rf_aqlm_work w = rf_aqlm_predicted_work(256, 512, &c);
    const double total = rf_aqlm_predicted_flops(256, 512, &c);
    assert_float_equal(w.kmeans + w.beam + w.steps + w.blas, total, 1e-12 * total);
    assert_float_equal(w.kmeans, 2 * (7 * fit * K * d * 2 + groups * K * d * 2), 1e-12 * total);
    assert_float_equal(w.beam, 5 * 2.0 * 256 * 512 * K * 2 * 3, 1e-12 * total);
    /* every epoch's steps and the loss after the last epoch, one [256, 512] x [512, 512] each */
    const double product = 2.0 * 256 * 512 * 512;
    assert_float_equal(w.steps, (5 * c.steps_per_epoch + 1) * product, 1e-12 * total);
    /* the product that starts each beam pass and the two of the errors */
    assert_float_equal(w.blas, (5 + 2) * product, 1e-12 * total);
}

/* The scoring loop's rates on this path: measured, positive and finite, for top 1 and top > 1. */
static void test_scoring_rates(void **state) {
    (void)state;
    rf_aqlm_config c = fx_config(1, 6, 1, 4, 3);
    double kmeans = 0, beam = 0;
    rf_aqlm_scoring_rates(&c, 0.01, &kmeans, &beam);
    assert_true(isfinite(kmeans) && kmeans > 1e6);
    assert_true(isfinite(beam) && beam > 1e6);
}

/* The Adam step's rate: measured, positive and finite, for groups that divide the probe's shape
 * and for og 3, which does not. */
static void test_step_rate(void **state) {
    (void)state;
    rf_aqlm_config c = fx_config(2, 6, 1, 8, 1);
    const double r = rf_aqlm_step_rate(&c, 64, 256, 0.01);
    assert_true(isfinite(r) && r > 1e6);
    c = fx_config(1, 6, 3, 4, 1);
    const double r3 = rf_aqlm_step_rate(&c, 64, 256, 0.01);
    assert_true(isfinite(r3) && r3 > 1e6);
}

static void test_adam_update(void **state) {
    (void)state;
    float p[3] = {1, -2, 0.5f}, g[3] = {0.3f, -4, 0}, v[3] = {0}, vmax[3] = {0};
    aqlm_adam_update(p, g, v, vmax, 3, 1e-3, 0.95, 1e-8, 1);
    /* step 1: v = 0.05 g^2, denom = |g| + eps, so p moves by lr * sign(g) */
    assert_float_equal(p[0], 1 - 1e-3, 5e-7);
    assert_float_equal(p[1], -2 + 1e-3, 5e-7);
    assert_float_equal(p[2], 0.5f, 0);
    float g2[3] = {0.1f, -1, 1};
    aqlm_adam_update(p, g2, v, vmax, 3, 1e-3, 0.95, 1e-8, 2);
    for (int j = 0; j < 3; j++) { /* amsgrad: vmax keeps the larger second moment */
        double v1 = 0.05 * g[j] * g[j], v2 = 0.95 * v1 + 0.05 * g2[j] * g2[j];
        assert_float_equal(vmax[j], fmax(v1, v2), 1e-7);
    }
    double denom = sqrt(0.95 * 0.05 * 0.09 + 0.05 * 0.01) / sqrt(1 - 0.95 * 0.95) + 1e-8;
    assert_float_equal(p[0], 1 - 1e-3 - 1e-3 * 0.1 / denom, 5e-7);
}

/* The refusal names the setting as rf_aqlm_config calls it, and rf_error_field gives its id. */
static void expect_config_error(rf_aqlm_config c, int64_t out, int64_t in, const char *field,
                                const char *msg) {
    assert_int_equal(rf_aqlm_check_config(&c, out, in), RF_ERR);
    if (!strstr(rf_last_error(), msg)) fprintf(stderr, "got: %s\n", rf_last_error());
    assert_non_null(strstr(rf_last_error(), msg));
    assert_ptr_equal(strstr(rf_last_error(), msg), rf_last_error()); /* the setting comes first */
    assert_non_null(rf_error_field());
    assert_string_equal(rf_error_field(), field);
}

static void test_check_config(void **state) {
    (void)state;
    rf_aqlm_config d = rf_aqlm_config_default(), c;
    assert_int_equal(rf_aqlm_check_config(&d, 4096, 4096), RF_OK);
    c = d, c.in_group_size = 7;
    expect_config_error(c, 256, 512, "aqlm.in_group_size",
                        "in_group_size 7 does not divide in_features 512");
    c = d, c.out_group_size = 3;
    expect_config_error(c, 256, 512, "aqlm.out_group_size",
                        "out_group_size 3 does not divide out_features 256");
    c = d, c.in_group_size = 32, c.out_group_size = 16;
    expect_config_error(c, 256, 512, "aqlm.in_group_size",
                        "in_group_size 32 x out_group_size 16: groups of more than 256 weights");
    c = d;
    expect_config_error(c, 256, 512, "aqlm.nbits_per_codebook",
                        "nbits_per_codebook 16: 65536 centroids need at least");
    assert_non_null(strstr(rf_last_error(), "has 16384"));
    c = d, c.nbits_per_codebook = 17;
    expect_config_error(c, 4096, 4096, "aqlm.nbits_per_codebook", "nbits_per_codebook 17");
    c = d, c.nbits_per_codebook = 0;
    expect_config_error(c, 4096, 4096, "aqlm.nbits_per_codebook", "nbits_per_codebook 0");
    c = d, c.num_codebooks = 0;
    expect_config_error(c, 4096, 4096, "aqlm.num_codebooks", "num_codebooks 0");
    c = d, c.beam_size = 0;
    expect_config_error(c, 4096, 4096, "aqlm.beam_size", "beam_size 0");
    c = d, c.max_epochs = -1;
    expect_config_error(c, 4096, 4096, "aqlm.max_epochs", "max_epochs -1");
    c = d, c.steps_per_epoch = -1;
    expect_config_error(c, 4096, 4096, "aqlm.steps_per_epoch", "steps_per_epoch -1");
    c = d, c.lr = 0;
    expect_config_error(c, 4096, 4096, "aqlm.lr", "lr 0");
    c = d, c.lr = NAN;
    expect_config_error(c, 4096, 4096, "aqlm.lr", "lr nan");
    c = d, c.init_max_iter = 0;
    expect_config_error(c, 4096, 4096, "aqlm.init_max_iter", "init_max_iter 0");
    c = d, c.init_max_points_per_centroid = -1;
    expect_config_error(c, 4096, 4096, "aqlm.init_max_points_per_centroid",
                        "init_max_points_per_centroid -1");
    c = d, c.relative_mse_tolerance = INFINITY;
    expect_config_error(c, 4096, 4096, "aqlm.relative_mse_tolerance",
                        "relative_mse_tolerance inf");
    assert_int_equal(rf_aqlm_check_config(&d, 0, 4096), RF_ERR);
    assert_null(rf_error_field()); /* a shape, not a setting */
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topk_vs_ref),
        cmocka_unit_test(test_topk_paths_agree),
        cmocka_unit_test(test_topk_ties_prefer_lower_index),
        cmocka_unit_test(test_codeword_norms),
        cmocka_unit_test(test_kmeans_assign_vs_ref),
        cmocka_unit_test(test_kmeans_separable),
        cmocka_unit_test(test_dequantize_formula),
        cmocka_unit_test(test_errors_vs_ref),
        cmocka_unit_test(test_errors_undefined),
        cmocka_unit_test(test_bits_per_weight),
        cmocka_unit_test(test_predicted_work),
        cmocka_unit_test(test_scoring_rates),
        cmocka_unit_test(test_step_rate),
        cmocka_unit_test(test_adam_update),
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_init_scales),
        cmocka_unit_test(test_kmeans_progress),
        cmocka_unit_test(test_config_quick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
