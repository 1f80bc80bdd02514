/* test_sv_grad.c -- adjoint gradients of a loss of the probabilities with respect to all L*n*3
 * angles: the fused fast adjoint against the gate-by-gate _ref, against central finite
 * differences (complex128), against the parameter-shift rule (each angle sits in one RX/RY/RZ,
 * whose generator has eigenvalues +-1/2: dp_j/dtheta = (p_j(theta + pi/2) - p_j(theta - pi/2)) / 2,
 * exact), and complex64 against complex128. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>

#include "tests/fixtures/dense_statevec.h"
#include "tests/fixtures/simd_path.h"

/* L(p) = sum_j w_j p_j + sum_j (p_j - t_j)^2: nonlinear, so the loss is really folded into the
 * adjoint state. */
typedef struct {
    int n, L;
    rf_sv_entangler e;
    const rf_c128 *psi0;
    double *w, *t;
} problem;

static double run_loss(const problem *P, const double *ang, double *p_out) {
    const int64_t N = (int64_t)1 << P->n;
    rf_c128 *psi = fx_copy(P->psi0, P->n), *work = rf_malloc(sizeof *work * (size_t)N);
    rf_sv_circuit(psi, work, P->n, P->L, ang, P->e);
    double *p = p_out ? p_out : rf_malloc(sizeof *p * (size_t)N), loss = 0;
    rf_sv_probabilities(psi, P->n, p);
    for (int64_t j = 0; j < N; j++) loss += P->w[j] * p[j] + (p[j] - P->t[j]) * (p[j] - P->t[j]);
    if (!p_out) free(p);
    free(work), free(psi);
    return loss;
}

static void dldp_of(const problem *P, const double *p, double *g) {
    for (int64_t j = 0; j < (int64_t)1 << P->n; j++) g[j] = P->w[j] + 2 * (p[j] - P->t[j]);
}

static void make_problem(problem *P, rf_rng *r, int n, int L, rf_sv_entangler e) {
    const int64_t N = (int64_t)1 << n;
    P->n = n, P->L = L, P->e = e;
    P->psi0 = fx_state(r, n);
    P->w = rf_malloc(sizeof *P->w * (size_t)N), P->t = rf_malloc(sizeof *P->t * (size_t)N);
    for (int64_t j = 0; j < N; j++) P->w[j] = rf_rng_normal(r), P->t[j] = rf_rng_uniform(r) / N;
}

static void free_problem(problem *P) { free((void *)P->psi0), free(P->w), free(P->t); }

/* grad by the fast (ref = 0) or ref adjoint, c128; checks that psi comes back to psi0. */
static void adjoint(const problem *P, const double *ang, int ref, double *grad) {
    const int64_t N = (int64_t)1 << P->n;
    rf_c128 *psi = fx_copy(P->psi0, P->n), *work = rf_malloc(sizeof *work * 3 * (size_t)N);
    double *p = rf_malloc(sizeof *p * (size_t)N), *g = rf_malloc(sizeof *g * (size_t)N);
    rf_sv_circuit(psi, work, P->n, P->L, ang, P->e);
    rf_sv_probabilities(psi, P->n, p);
    dldp_of(P, p, g);
    (ref ? rf_sv_adjoint_ref_c128 : rf_sv_adjoint_c128)(psi, g, work, P->n, P->L, ang, P->e, grad);
    assert_true(fx_maxdiff(psi, P->psi0, N) < 1e-12);
    free(g), free(p), free(work), free(psi);
}

static double maxabs(const double *x, int m) {
    double s = 0;
    for (int i = 0; i < m; i++) s = fabs(x[i]) > s ? fabs(x[i]) : s;
    return s;
}

static void test_adjoint_vs_ref(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 11);
    /* the adjoint's tiles hold 2^13 amplitudes of each state (c128): 15 and 17 take 2 passes */
    const int sizes[] = {1, 2, 3, 6, 9, 12, 13, 15, 17};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int L = 1; L <= (sizes[s] > 13 ? 2 : 3); L++)
            for (int e = 0; e < 2; e++) {
                problem P;
                const int n = sizes[s], m = L * n * 3;
                make_problem(&P, &r, n, L, (rf_sv_entangler)e);
                double *ang = fx_angles(&r, m), *g1 = rf_malloc(sizeof *g1 * (size_t)m),
                       *g2 = rf_malloc(sizeof *g2 * (size_t)m);
                adjoint(&P, ang, 0, g1);
                adjoint(&P, ang, 1, g2);
                const double scale = maxabs(g2, m);
                for (int i = 0; i < m; i++) assert_true(fabs(g1[i] - g2[i]) < 1e-12 * (1 + scale));
                free(g2), free(g1), free(ang);
                free_problem(&P);
            }
}

static void test_adjoint_vs_finite_differences(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 12);
    for (int e = 0; e < 2; e++) {
        problem P;
        const int n = 5, L = 3, m = L * n * 3;
        make_problem(&P, &r, n, L, (rf_sv_entangler)e);
        double *ang = fx_angles(&r, m), g[45];
        adjoint(&P, ang, 0, g);
        const double h = 1e-5;
        for (int i = 0; i < m; i++) {
            const double keep = ang[i];
            ang[i] = keep + h;
            const double lp = run_loss(&P, ang, NULL);
            ang[i] = keep - h;
            const double lm = run_loss(&P, ang, NULL);
            ang[i] = keep;
            const double fd = (lp - lm) / (2 * h);
            assert_true(fabs(fd - g[i]) < 1e-8 * (1 + fabs(fd)));
        }
        free(ang);
        free_problem(&P);
    }
}

static void test_adjoint_vs_parameter_shift(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 13);
    for (int e = 0; e < 2; e++) {
        problem P;
        const int n = 4, L = 2, m = L * n * 3;
        const int64_t N = (int64_t)1 << n;
        make_problem(&P, &r, n, L, (rf_sv_entangler)e);
        double *ang = fx_angles(&r, m), g[24], p0[16], pp[16], pm[16], dldp[16];
        adjoint(&P, ang, 0, g);
        run_loss(&P, ang, p0);
        dldp_of(&P, p0, dldp);
        for (int i = 0; i < m; i++) {
            const double keep = ang[i];
            ang[i] = keep + M_PI / 2;
            run_loss(&P, ang, pp);
            ang[i] = keep - M_PI / 2;
            run_loss(&P, ang, pm);
            ang[i] = keep;
            double ps = 0;
            for (int64_t j = 0; j < N; j++) ps += dldp[j] * (pp[j] - pm[j]) / 2;
            assert_true(fabs(ps - g[i]) < 1e-12 * (1 + fabs(ps)));
        }
        free(ang);
        free_problem(&P);
    }
}

/* complex64 state, float dL/dp: the same gradients to single-precision accuracy, and the c64 ref
 * agrees with the c64 fast one (c64 adjoint tiles hold 2^14 amplitudes: n = 16 takes 2 passes). */
static void check_adjoint_c64(rf_rng *r, int n) {
    problem P;
    const int L = 3, m = L * n * 3;
    const int64_t N = (int64_t)1 << n;
    make_problem(&P, r, n, L, RF_SV_RING);
    double *ang = fx_angles(r, m), *g = rf_malloc(sizeof *g * m), *g32 = rf_malloc(sizeof *g32 * m),
           *g32r = rf_malloc(sizeof *g32r * m);
    adjoint(&P, ang, 0, g);
    rf_c64 *psi = fx_to_c64(P.psi0, n), *work = rf_malloc(sizeof *work * 3 * (size_t)N);
    float *p = rf_malloc(sizeof *p * (size_t)N), *dl = rf_malloc(sizeof *dl * (size_t)N);
    rf_sv_circuit(psi, work, n, L, ang, P.e);
    rf_sv_probabilities(psi, n, p);
    for (int64_t j = 0; j < N; j++) dl[j] = (float)(P.w[j] + 2 * (p[j] - P.t[j]));
    rf_c64 *psi2 = rf_malloc(sizeof *psi2 * (size_t)N);
    memcpy(psi2, psi, sizeof *psi2 * (size_t)N);
    rf_sv_adjoint(psi, dl, work, n, L, ang, P.e, g32);
    rf_sv_adjoint_ref(psi2, dl, work, n, L, ang, P.e, g32r);
    assert_true(fx_maxdiff64(psi, P.psi0, N) < 1e-5);
    const double scale = maxabs(g, m);
    for (int i = 0; i < m; i++) {
        assert_true(fabs(g32[i] - g[i]) < 1e-4 * scale);
        assert_true(fabs(g32[i] - g32r[i]) < 1e-5 * scale);
    }
    free(psi2), free(dl), free(p), free(work), free(psi), free(g32r), free(g32), free(g), free(ang);
    free_problem(&P);
}

static void test_adjoint_c64(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 14);
    check_adjoint_c64(&r, 12);
    check_adjoint_c64(&r, 16);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjoint_vs_ref),
        cmocka_unit_test(test_adjoint_vs_finite_differences),
        cmocka_unit_test(test_adjoint_vs_parameter_shift),
        cmocka_unit_test(test_adjoint_c64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
