/* test_gen_mlp.c -- kernels/vitgen/gen_mlp.h: the sgemm forward/backward against the plain-loop twins,
 * the twins' gradient against central finite differences of L = <c, y> (c fixed), the
 * initialization, and Adam (its exact first step; convergence on a separable quadratic). */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/vitgen/qgp_readout.h"
#include "tests/fixtures/simd_path.h"

typedef struct {
    int nlayers, sizes[RF_MLP_MAX_LAYERS + 1];
    int64_t batch;
} shape;

static const shape SHAPES[] = {
    {3, {5, 7, 6, 3}, 37},
    {1, {4, 2}, 9},
    {3, {25, 16, 16, 1}, 300},
    {4, {3, 8, 1, 5, 2}, 1},
};

static float *randn(rf_rng *r, int64_t n, double sd) {
    float *x = rf_malloc((size_t)n * sizeof *x);
    for (int64_t k = 0; k < n; k++) x[k] = (float)(sd * rf_rng_normal(r));
    return x;
}

/* A float maximum (exact): GCC 12's aarch64 vectoriser crashes on a float -> double fmax. */
static double max_abs(const float *a, int64_t n) {
    float m = 0;
    for (int64_t k = 0; k < n; k++) m = fmaxf(m, fabsf(a[k]));
    return m;
}

static void assert_close(const float *a, const float *b, int64_t n, double rtol) {
    const double tol = rtol * fmax(max_abs(b, n), 1e-30);
    for (int64_t k = 0; k < n; k++) assert_true(fabs((double)a[k] - b[k]) <= tol);
}

static void test_forward_backward_vs_ref(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        rf_mlp m;
        rf_mlp_init(&m, sh->nlayers, sh->sizes);
        const int fin = sh->sizes[0], fout = sh->sizes[sh->nlayers];
        const int64_t B = sh->batch;
        rf_rng r;
        rf_rng_init(&r, 10 + s);
        float *params = rf_malloc((size_t)m.nparams * sizeof *params);
        rf_mlp_init_params(&m, params, 20 + s, 0);
        for (int64_t k = 0; k < m.nparams; k++) params[k] += 0.1f * (float)rf_rng_normal(&r);
        float *x = randn(&r, B * fin, 1.0), *dy = randn(&r, B * fout, 1.0);
        const size_t nw = rf_mlp_work_floats(&m, B);
        float *w1 = rf_malloc(nw * sizeof *w1), *w2 = rf_malloc(nw * sizeof *w2);
        float *y1 = rf_malloc(B * fout * sizeof *y1), *y2 = rf_malloc(B * fout * sizeof *y2);
        float *g1 = rf_calloc(m.nparams, sizeof *g1), *g2 = rf_calloc(m.nparams, sizeof *g2);
        float *dx1 = rf_malloc(B * fin * sizeof *dx1), *dx2 = rf_malloc(B * fin * sizeof *dx2);
        rf_mlp_forward(&m, params, x, B, y1, w1);
        rf_mlp_forward_ref(&m, params, x, B, y2, w2);
        assert_close(y1, y2, B * fout, 1e-5);
        /* grad accumulates: start both from the same nonzero values */
        for (int64_t k = 0; k < m.nparams; k++) g1[k] = g2[k] = 0.5f;
        rf_mlp_backward(&m, params, x, B, dy, w1, g1, dx1);
        rf_mlp_backward_ref(&m, params, x, B, dy, w2, g2, dx2);
        assert_close(g1, g2, m.nparams, 1e-5);
        assert_close(dx1, dx2, B * fin, 1e-5);
        /* without dx: the same parameter gradient */
        rf_mlp_forward(&m, params, x, B, y1, w1);
        memset(g1, 0, m.nparams * sizeof *g1);
        rf_mlp_backward(&m, params, x, B, dy, w1, g1, NULL);
        for (int64_t k = 0; k < m.nparams; k++) g2[k] -= 0.5f;
        assert_close(g1, g2, m.nparams, 1e-5);
        free(dx2), free(dx1), free(g2), free(g1), free(y2), free(y1), free(w2), free(w1);
        free(dy), free(x), free(params);
    }
}

/* <c, y> with the ref forward, in double */
static double dot_loss(const rf_mlp *m, const float *params, const float *x, int64_t B,
                       const float *c, float *y, float *work) {
    rf_mlp_forward_ref(m, params, x, B, y, work);
    double l = 0;
    for (int64_t k = 0; k < B * m->sizes[m->nlayers]; k++) l += (double)c[k] * y[k];
    return l;
}

static double secant(const rf_mlp *m, float *params, float *p, const float *x, int64_t B,
                     const float *c, float *y, float *work) {
    const float orig = *p, h = 1e-2f;
    *p = orig + h;
    const double up = *p, lp = dot_loss(m, params, x, B, c, y, work);
    *p = orig - h;
    const double dn = *p, lm = dot_loss(m, params, x, B, c, y, work);
    *p = orig;
    return (lp - lm) / (up - dn);
}

static void test_grad_finite_differences(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        rf_mlp m;
        rf_mlp_init(&m, sh->nlayers, sh->sizes);
        const int fin = sh->sizes[0], fout = sh->sizes[sh->nlayers];
        const int64_t B = sh->batch < 40 ? sh->batch : 40;
        rf_rng r;
        rf_rng_init(&r, 30 + s);
        float *params = rf_malloc((size_t)m.nparams * sizeof *params);
        rf_mlp_init_params(&m, params, 40 + s, 0);
        float *x = randn(&r, B * fin, 1.0), *c = randn(&r, B * fout, 1.0);
        float *work = rf_malloc(rf_mlp_work_floats(&m, B) * sizeof *work);
        float *y = rf_malloc(B * fout * sizeof *y), *g = rf_calloc(m.nparams, sizeof *g);
        float *dx = rf_malloc(B * fin * sizeof *dx);
        rf_mlp_forward_ref(&m, params, x, B, y, work);
        rf_mlp_backward_ref(&m, params, x, B, c, work, g, dx);
        const double tp = 2e-3 * max_abs(g, m.nparams), tx = 2e-3 * max_abs(dx, B * fin);
        for (int64_t k = 0; k < m.nparams; k++)
            assert_true(fabs(secant(&m, params, params + k, x, B, c, y, work) - g[k]) <= tp);
        for (int64_t k = 0; k < B * fin; k++)
            assert_true(fabs(secant(&m, params, x + k, x, B, c, y, work) - dx[k]) <= tx);
        free(dx), free(g), free(y), free(work), free(c), free(x), free(params);
    }
}

/* 1 -> 1 -> 1 with unit weights: y = tanh(x), the fast tanh against libm's over its branches */
static void test_tanh(void **state) {
    (void)state;
    const int sizes[] = {1, 1, 1};
    rf_mlp m;
    rf_mlp_init(&m, 2, sizes);
    const float params[4] = {1, 0, 1, 0};
    enum { B = 40001 };
    float *x = rf_malloc(B * sizeof *x), *y = rf_malloc(B * sizeof *y);
    float *work = rf_malloc(rf_mlp_work_floats(&m, B) * sizeof *work);
    for (int k = 0; k < B - 1; k++) x[k] = -12.0f + 24.0f * k / (B - 2);
    x[B - 1] = NAN;
    rf_mlp_forward(&m, params, x, B, y, work);
    for (int k = 0; k < B - 1; k++) {
        const double t = tanh((double)x[k]);
        assert_true(fabs(y[k] - t) <= 2.5e-7 * fabs(t) + 1e-30);
    }
    assert_true(isnan(y[B - 1]));
    free(work), free(y), free(x);
}

static void test_init(void **state) {
    (void)state;
    const int sizes[] = {4, 64, 64, 3};
    rf_mlp m;
    rf_mlp_init(&m, 3, sizes);
    assert_int_equal(m.nparams, 5 * 64 + 65 * 64 + 65 * 3);
    float *p = rf_malloc(m.nparams * sizeof *p), *q = rf_malloc(m.nparams * sizeof *q);
    rf_mlp_init_params(&m, p, 7, 1);
    rf_mlp_init_params(&m, q, 7, 1);
    assert_memory_equal(p, q, m.nparams * sizeof *p);
    for (int64_t k = 0; k < 64 * 4; k++) assert_true(p[k] != 0.0f);
    /* W_1 ~ N(0, 1/64): its sample variance */
    double v = 0;
    for (int64_t k = 0; k < 64 * 64; k++) v += (double)p[5 * 64 + k] * p[5 * 64 + k];
    v /= 64 * 64;
    assert_true(fabs(v * 64 - 1) < 0.1);
    for (int64_t k = 5 * 64 + 64 * 64; k < 5 * 64 + 65 * 64; k++) assert_true(p[k] == 0.0f);
    for (int64_t k = 5 * 64 + 65 * 64; k < m.nparams; k++) assert_true(p[k] == 0.0f);
    free(q), free(p);
}

static void test_adam(void **state) {
    (void)state;
    enum { N = 50 };
    rf_rng r;
    rf_rng_init(&r, 5);
    float p[N], t[N], c[N], g[N];
    for (int k = 0; k < N; k++) {
        p[k] = (float)rf_rng_normal(&r);
        t[k] = (float)rf_rng_normal(&r);
        c[k] = (float)(0.1 + 10 * rf_rng_uniform(&r)); /* curvatures two decades apart */
    }
    rf_adam a;
    rf_adam_init(&a, N);
    /* bias correction: the first step moves every coordinate by lr against its gradient's sign */
    float p0[N];
    memcpy(p0, p, sizeof p);
    for (int k = 0; k < N; k++) g[k] = 2 * c[k] * (p[k] - t[k]);
    rf_adam_step(&a, p, g, 1e-2);
    for (int k = 0; k < N; k++) assert_true(fabs(p[k] - (p0[k] - 1e-2 * (g[k] > 0 ? 1 : -1))) < 1e-6);
    for (int it = 0; it < 3000; it++) {
        for (int k = 0; k < N; k++) g[k] = 2 * c[k] * (p[k] - t[k]);
        rf_adam_step(&a, p, g, it < 2000 ? 1e-2 : 1e-3);
    }
    assert_int_equal(a.t, 3001);
    for (int k = 0; k < N; k++) assert_true(fabs(p[k] - t[k]) < 1e-2);
    rf_adam_free(&a);
}

/* rf_readout_eval against its plain-loop twin: with and without the p feature, widths 16 and 19,
 * row counts below one block, not a multiple of a block, and over several chunks (a partial last
 * one); loss, G, the parameter gradient and dL/dp. Then: the same bits for 1 and 2 threads. */
typedef struct {
    int64_t N;
    int H, hasp;
} ro_case;

static void readout_case(const ro_case *c, uint64_t seed, int threads_check) {
    int nbits = 1;
    while (((int64_t)1 << nbits) < c->N) nbits++;
    const int F = nbits + 1 + c->hasp, sizes[4] = {F, c->H, c->H, 1};
    rf_mlp m;
    rf_mlp_init(&m, 3, sizes);
    rf_rng r;
    rf_rng_init(&r, seed);
    const int64_t N = c->N;
    float *params = rf_malloc((size_t)m.nparams * sizeof *params);
    rf_mlp_init_params(&m, params, seed + 1, 0);
    float *S = randn(&r, N, 1.0), *W = randn(&r, N, 1.0), *p0 = randn(&r, N, 1.0);
    for (int64_t j = 0; j < N; j++) p0[j] = p0[j] * p0[j] / (float)((int64_t)1 << nbits);
    float *p1 = rf_malloc((size_t)N * sizeof *p1), *p2 = rf_malloc((size_t)N * sizeof *p2);
    memcpy(p1, p0, (size_t)N * sizeof *p1), memcpy(p2, p0, (size_t)N * sizeof *p2);
    double ss = 0, ww = 0;
    for (int64_t j = 0; j < N; j++) ss += (double)S[j] * S[j], ww += (double)W[j] * W[j];
    const float s = (float)sqrt(ss / (double)N);
    rf_readout ro = {.m = &m, .nbits = nbits, .N = N, .S = S, .W = W, .s = s, .inv_s = 1.0f / s,
                     .p = c->hasp ? p1 : NULL, .pscale = (float)((int64_t)1 << nbits),
                     .gscale = 1.0 / ww};
    rf_readout ref = ro;
    ref.p = c->hasp ? p2 : NULL;
    float *G1 = rf_malloc((size_t)N * sizeof *G1), *G2 = rf_malloc((size_t)N * sizeof *G2);
    float *g1 = rf_malloc((size_t)m.nparams * sizeof *g1), *g2 = rf_malloc((size_t)m.nparams * sizeof *g2);
    rf_readout_work *w = rf_readout_work_new(&ro);
    /* forward only: p stays */
    const double l0 = rf_readout_eval(&ro, w, params, G1, NULL);
    assert_memory_equal(p1, p0, (size_t)N * sizeof *p0);
    const double l1 = rf_readout_eval(&ro, w, params, G1, g1);
    assert_true(l0 == l1);
    const double l2 = rf_readout_eval_ref(&ref, params, G2, g2);
    assert_true(fabs(l1 - l2) <= 1e-5 * l2);
    assert_close(G1, G2, N, 1e-5);
    assert_close(g1, g2, m.nparams, 1e-5);
    if (c->hasp) assert_close(p1, p2, N, 1e-5);
    if (threads_check) {
        /* 1 and 2 threads: the same bits (each with its own work, made under that count) */
        const int t0 = omp_get_max_threads();
        float *G3 = rf_malloc((size_t)N * sizeof *G3), *g3 = rf_malloc((size_t)m.nparams * sizeof *g3);
        float *p3 = rf_malloc((size_t)N * sizeof *p3);
        double l[2];
        for (int t = 1; t <= 2; t++) {
            omp_set_num_threads(t);
            memcpy(p3, p0, (size_t)N * sizeof *p3);
            ro.p = c->hasp ? p3 : NULL;
            rf_readout_work *wt = rf_readout_work_new(&ro);
            l[t - 1] = rf_readout_eval(&ro, wt, params, G3, g3);
            rf_readout_work_free(wt);
            assert_true(l[t - 1] == l1);
            assert_memory_equal(G3, G1, (size_t)N * sizeof *G1);
            assert_memory_equal(g3, g1, (size_t)m.nparams * sizeof *g1);
            if (c->hasp) assert_memory_equal(p3, p1, (size_t)N * sizeof *p1);
        }
        omp_set_num_threads(t0);
        free(p3), free(g3), free(G3);
    }
    rf_readout_work_free(w);
    free(g2), free(g1), free(G2), free(G1), free(p2), free(p1), free(p0), free(W), free(S), free(params);
}

static void test_readout_vs_ref(void **state) {
    (void)state;
    const ro_case cases[] = {
        {40, 16, 1},   {40, 16, 0},   {300, 16, 1}, {300, 19, 0},
        {9000, 16, 1}, {9000, 19, 0}, {128, 8, 1},  {2, 3, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        readout_case(&cases[k], 100 + k, cases[k].N > 4096);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_backward_vs_ref),
        cmocka_unit_test(test_grad_finite_differences),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_readout_vs_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
