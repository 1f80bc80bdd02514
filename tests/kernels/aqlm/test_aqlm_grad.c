/* test_aqlm_grad.c -- the objective L = tr(dW XTX dW^T)/out and its gradient: the fast path
 * (sgemm + code index) against the float64 ref, and the ref against central finite differences
 * (L is quadratic in each codebook entry and each scale, so a secant is the exact slope at its
 * midpoint). */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "aqlm_fixtures.h"

typedef struct {
    int og, ig, M, nbits, xtx;
} shape;

static const shape SHAPES[] = {
    {1, 4, 2, 3, 1},
    {2, 4, 2, 3, 1},
    {1, 8, 1, 4, 0},
    {2, 2, 3, 2, 1},
};
enum { OUT = 12, IN = 32 };

static void test_loss_grad_vs_ref(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        rf_rng r;
        rf_rng_init(&r, 100 + s);
        rf_aqlm_config c = fx_config(sh->M, sh->nbits, sh->og, sh->ig, 1);
        rf_aqlm_matrix q;
        fx_random_q(&r, &q, OUT, IN, &c);
        float *W = fx_randn(&r, OUT * IN, 0.5), *X = sh->xtx ? fx_xtx(&r, IN) : NULL;
        int64_t ncb = (int64_t)q.M * q.K * q.og * q.ig, Og = OUT / q.og;
        float *gc = rf_malloc(ncb * sizeof *gc), *gs = rf_malloc(Og * sizeof *gs);
        double *rc = rf_malloc(ncb * sizeof *rc), *rs = rf_malloc(Og * sizeof *rs);
        float *work = rf_malloc(2 * OUT * IN * sizeof *work);
        aqlm_code_index ix = {0};
        aqlm_code_index_build(&q, &ix);
        double l1 = aqlm_loss_grad(W, X, &q, &ix, work, gc, gs);
        double l2 = aqlm_loss_grad_ref(W, X, &q, rc, rs);
        assert_true(l2 > 0 && fabs(l1 - l2) <= 1e-5 * l2);
        double mc = 0, ms = 0;
        for (int64_t j = 0; j < ncb; j++) mc = fmax(mc, fabs(rc[j]));
        for (int64_t o = 0; o < Og; o++) ms = fmax(ms, fabs(rs[o]));
        for (int64_t j = 0; j < ncb; j++) assert_true(fabs(gc[j] - rc[j]) <= 1e-5 * mc);
        for (int64_t o = 0; o < Og; o++) assert_true(fabs(gs[o] - rs[o]) <= 1e-5 * ms);
        aqlm_code_index_free(&ix);
        free(work), free(rs), free(rc), free(gs), free(gc), free(X), free(W);
        rf_aqlm_free(&q);
    }
}

/* (L(p + h) - L(p - h)) / (the actual float step), the ref's loss in float64. */
static double secant(const float *W, const float *X, rf_aqlm_matrix *q, float *p, double *gc,
                     double *gs) {
    const float orig = *p, h = 1e-3f;
    *p = orig + h;
    double up = *p, lp = aqlm_loss_grad_ref(W, X, q, gc, gs);
    *p = orig - h;
    double dn = *p, lm = aqlm_loss_grad_ref(W, X, q, gc, gs);
    *p = orig;
    return (lp - lm) / (up - dn);
}

static void test_grad_finite_differences(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        rf_rng r;
        rf_rng_init(&r, 200 + s);
        rf_aqlm_config c = fx_config(sh->M, sh->nbits, sh->og, sh->ig, 1);
        rf_aqlm_matrix q;
        fx_random_q(&r, &q, OUT, IN, &c);
        float *W = fx_randn(&r, OUT * IN, 0.5), *X = sh->xtx ? fx_xtx(&r, IN) : NULL;
        int64_t ncb = (int64_t)q.M * q.K * q.og * q.ig, Og = OUT / q.og;
        double *gc = rf_malloc(ncb * sizeof *gc), *gs = rf_malloc(Og * sizeof *gs);
        double *tc = rf_malloc(ncb * sizeof *tc), *ts = rf_malloc(Og * sizeof *ts);
        aqlm_loss_grad_ref(W, X, &q, gc, gs);
        double mc = 0;
        for (int64_t j = 0; j < ncb; j++) mc = fmax(mc, fabs(gc[j]));
        assert_true(mc > 0);
        for (int64_t j = 0; j < ncb; j++) {
            double fd = secant(W, X, &q, &q.codebooks[j], tc, ts);
            assert_true(fabs(fd - gc[j]) <= 1e-6 * mc + 1e-5 * fabs(gc[j]));
        }
        for (int64_t o = 0; o < Og; o++) {
            double fd = secant(W, X, &q, &q.scales[o], tc, ts);
            assert_true(fabs(gs[o]) > 0 && fabs(fd - gs[o]) <= 1e-5 * fabs(gs[o]) + 1e-9);
        }
        free(ts), free(tc), free(gs), free(gc), free(X), free(W);
        rf_aqlm_free(&q);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_grad_vs_ref),
        cmocka_unit_test(test_grad_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
