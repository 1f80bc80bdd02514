/* test_decoder.c -- the decoder's fast path against its _ref twins on small shapes (Qwen3-style
 * q/k norms, Llama/Qwen2-style biases, the three RoPE rules), the taps' inputs, causality (a later
 * token changes no earlier output), and RoPE's llama3 frequencies against hand values. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/decoder/decoder.h"

static float *randn(rf_rng *r, int64_t n, double sd) {
    float *x = rf_malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = (float)(sd * rf_rng_normal(r));
    return x;
}

static float *norm_weight(rf_rng *r, int n) {
    float *w = randn(r, n, 0.1);
    for (int i = 0; i < n; i++) w[i] += 1.0f;
    return w;
}

typedef struct {
    rf_dec_config c;
    rf_dec_layer l;
    float *bufs[16];
    int nbufs;
} fixture;

static const float *keep(fixture *f, float *p) { return f->bufs[f->nbufs++] = p; }

static void make_layer(fixture *f, rf_rng *r, int qk_norm, int bias) {
    const rf_dec_config *c = &f->c;
    int H = c->hidden, I = c->intermediate, qd = c->heads * c->head_dim,
        kd = c->kv_heads * c->head_dim;
    double sd = 1.0 / sqrt(H);
    f->l = (rf_dec_layer){0};
    f->l.input_norm = keep(f, norm_weight(r, H));
    f->l.post_norm = keep(f, norm_weight(r, H));
    f->l.wq = keep(f, randn(r, (int64_t)qd * H, sd));
    f->l.wk = keep(f, randn(r, (int64_t)kd * H, sd));
    f->l.wv = keep(f, randn(r, (int64_t)kd * H, sd));
    f->l.wo = keep(f, randn(r, (int64_t)H * qd, 1.0 / sqrt(qd)));
    f->l.wg = keep(f, randn(r, (int64_t)I * H, sd));
    f->l.wu = keep(f, randn(r, (int64_t)I * H, sd));
    f->l.wd = keep(f, randn(r, (int64_t)H * I, 1.0 / sqrt(I)));
    if (qk_norm) {
        f->l.q_norm = keep(f, norm_weight(r, c->head_dim));
        f->l.k_norm = keep(f, norm_weight(r, c->head_dim));
    }
    if (bias) {
        f->l.bq = keep(f, randn(r, qd, 0.1));
        f->l.bk = keep(f, randn(r, kd, 0.1));
        f->l.bv = keep(f, randn(r, kd, 0.1));
        f->l.bo = keep(f, randn(r, H, 0.1));
    }
}

static void free_fixture(fixture *f) {
    for (int i = 0; i < f->nbufs; i++) free(f->bufs[i]);
    f->nbufs = 0;
}

/* Float maxima (exact): GCC 12 for aarch64 crashes vectorising a double fmax over floats. */
static double max_rel(const float *a, const float *b, int64_t n) {
    float m = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmaxf(scale, fabsf(b[i]));
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return (double)m / scale;
}

/* The taps record a checksum of each input they see, to compare the two paths. */
typedef struct {
    double sum[RF_TAP_COUNT];
    int64_t rows[RF_TAP_COUNT];
    int cols[RF_TAP_COUNT];
} taps;

static void record(void *ctx, rf_dec_tap tap, const float *x, int64_t rows, int cols) {
    taps *t = ctx;
    t->rows[tap] = rows;
    t->cols[tap] = cols;
    for (int64_t i = 0; i < rows * cols; i++) t->sum[tap] += x[i] * (double)((i % 7) - 3);
}

static void check_layer(rf_rope_kind rope, int qk_norm, int bias, int heads, int kv_heads) {
    rf_rng r;
    rf_rng_init(&r, 42 + (uint64_t)(rope * 4 + qk_norm * 2 + bias));
    fixture f = {.c = {.hidden = 48, .intermediate = 80, .heads = heads, .kv_heads = kv_heads,
                       .head_dim = 16, .vocab = 61, .rms_eps = 1e-6, .rope_theta = 10000,
                       .rope_kind = rope, .rope_factor = 4, .rope_low_freq = 1,
                       .rope_high_freq = 4, .rope_orig_ctx = 8}};
    make_layer(&f, &r, qk_norm, bias);
    int nseq = 3, T = 11;
    int64_t n = (int64_t)nseq * T * f.c.hidden;
    float *x = randn(&r, n, 1.0), *y = rf_malloc((size_t)n * sizeof(float));
    memcpy(y, x, (size_t)n * sizeof(float));
    taps t1 = {0}, t2 = {0};
    rf_dec_work *w = rf_dec_work_new(&f.c, nseq, T);
    rf_dec_layer_forward(&f.c, &f.l, w, x, nseq, T, record, &t1);
    rf_dec_layer_forward_ref(&f.c, &f.l, y, nseq, T, record, &t2);
    assert_true(max_rel(x, y, n) < 1e-5);
    for (int k = 0; k < RF_TAP_COUNT; k++) {
        assert_int_equal(t1.rows[k], nseq * T);
        assert_int_equal(t1.cols[k], t2.cols[k]);
        assert_true(fabs(t1.sum[k] - t2.sum[k]) <= 1e-4 * (1 + fabs(t2.sum[k])));
    }
    assert_int_equal(t1.cols[RF_TAP_O], heads * 16);
    assert_int_equal(t1.cols[RF_TAP_DOWN], 80);
    rf_dec_work_free(w);
    free(x), free(y);
    free_fixture(&f);
}

static void test_layer_qwen3(void **state) {
    (void)state;
    check_layer(RF_ROPE_DEFAULT, 1, 0, 4, 2);
}

static void test_layer_llama_bias(void **state) {
    (void)state;
    check_layer(RF_ROPE_DEFAULT, 0, 1, 4, 4);
    check_layer(RF_ROPE_LINEAR, 0, 1, 6, 2);
    check_layer(RF_ROPE_LLAMA3, 0, 0, 4, 1);
}

/* Changing the last token of sequence 1 changes only its last row; the other sequences and
 * sequence 1's earlier rows keep their bits. */
static void test_causal(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 7);
    fixture f = {.c = {.hidden = 32, .intermediate = 40, .heads = 4, .kv_heads = 2,
                       .head_dim = 8, .vocab = 10, .rms_eps = 1e-5, .rope_theta = 1e6}};
    make_layer(&f, &r, 1, 0);
    int nseq = 2, T = 9, H = 32;
    int64_t n = (int64_t)nseq * T * H;
    float *x = randn(&r, n, 1.0), *y = rf_malloc((size_t)n * sizeof(float));
    memcpy(y, x, (size_t)n * sizeof(float));
    for (int i = 0; i < H; i++) y[((int64_t)T + T - 1) * H + i] += 1.0f;
    rf_dec_layer_forward_ref(&f.c, &f.l, x, nseq, T, NULL, NULL);
    rf_dec_layer_forward_ref(&f.c, &f.l, y, nseq, T, NULL, NULL);
    assert_memory_equal(x, y, (size_t)(2 * T - 1) * H * sizeof(float));
    assert_memory_not_equal(x + (2 * T - 1) * H, y + (2 * T - 1) * H, H * sizeof(float));
    free(x), free(y);
    free_fixture(&f);
}

/* Head: logits and NLL of the fast path against the _ref twin, and the NLL against the logits
 * themselves (a uniform distribution over V gives log V). */
static void test_head(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 9);
    rf_dec_config c = {.hidden = 24, .vocab = 300, .rms_eps = 1e-6};
    int T = 70; /* more than one block of 64 rows */
    float *x = randn(&r, (int64_t)T * 24, 1.0), *w = norm_weight(&r, 24);
    float *lm = randn(&r, 300 * 24, 0.2);
    int32_t tok[70];
    for (int t = 0; t < T; t++) tok[t] = (int32_t)rf_rng_below(&r, 300);
    double nll1[70], nll2[70];
    float *l1 = rf_malloc(sizeof(float) * T * 300), *l2 = rf_malloc(sizeof(float) * T * 300);
    rf_dec_head(&c, w, lm, x, T, tok, nll1, l1);
    rf_dec_head_ref(&c, w, lm, x, T, tok, nll2, l2);
    assert_true(max_rel(l1, l2, (int64_t)T * 300) < 1e-5);
    for (int t = 0; t < T - 1; t++) assert_true(fabs(nll1[t] - nll2[t]) < 1e-4);
    double nll3[70];
    rf_dec_head(&c, w, lm, x, T, tok, nll3, NULL); /* without logits: the same figures */
    assert_memory_equal(nll1, nll3, sizeof(double) * (T - 1));
    memset(lm, 0, sizeof(float) * 300 * 24);
    rf_dec_head(&c, w, lm, x, T, tok, nll3, NULL);
    assert_true(fabs(nll3[5] - log(300.0)) < 1e-9);
    free(x), free(w), free(lm), free(l1), free(l2);
}

/* llama3 rule, by hand: orig_ctx 8, low 1, high 4 -> wavelengths above 8 divided by factor 4,
 * below 2 kept, between blended with s = (8 / wavelen - 1) / 3. */
static void test_llama3_freq(void **state) {
    (void)state;
    rf_dec_config c = {.head_dim = 8, .rope_theta = 10000, .rope_kind = RF_ROPE_LLAMA3,
                       .rope_factor = 4, .rope_low_freq = 1, .rope_high_freq = 4,
                       .rope_orig_ctx = 8};
    double f[4];
    rf_dec_inv_freq(&c, f);
    for (int i = 0; i < 4; i++) {
        double base = pow(10000.0, -2.0 * i / 8), wl = 2 * M_PI / base, want = base;
        if (wl > 8) want = base / 4;
        else if (wl >= 2) {
            double s = (8 / wl - 1) / 3;
            want = (1 - s) * base / 4 + s * base;
        }
        assert_true(fabs(f[i] - want) <= 1e-15 * want);
    }
    assert_true(f[0] < 1.0 && f[0] > 0.25); /* wavelength 2 pi: blended (s = 0.09) */
    assert_true(fabs(f[3] - pow(10000.0, -0.75) / 4) < 1e-15); /* long wavelength: / factor */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_qwen3),  cmocka_unit_test(test_layer_llama_bias),
        cmocka_unit_test(test_causal),       cmocka_unit_test(test_head),
        cmocka_unit_test(test_llama3_freq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
