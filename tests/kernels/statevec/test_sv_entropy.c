/* test_sv_entropy.c -- the entanglement entropy of every cut against a Schmidt decomposition
 * computed here independently (one-sided Jacobi SVD of the reshaped state), on random states,
 * product states (0), Bell and GHZ states (ln 2); fast against ref; complex64 against complex128.
 */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>

#include "tests/fixtures/dense_statevec.h"

/* Singular values of the complex matrix with columns a[0..nc) of length m (column-major, a is
 * destroyed) by one-sided (Hestenes) Jacobi: rotate column pairs until all are orthogonal; the
 * singular values are then the column norms. */
static void jacobi_svd(cd *a, int64_t m, int64_t nc, double *sv) {
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int64_t i = 0; i < nc; i++)
            for (int64_t j = i + 1; j < nc; j++) {
                cd *x = a + i * m, *y = a + j * m, g = 0;
                double al = 0, be = 0;
                for (int64_t t = 0; t < m; t++) {
                    al += creal(x[t] * conj(x[t])), be += creal(y[t] * conj(y[t]));
                    g += conj(x[t]) * y[t];
                }
                const double ag = cabs(g);
                if (ag == 0 || ag <= 1e-15 * sqrt(al * be)) continue;
                if (ag / sqrt(al * be) > off) off = ag / sqrt(al * be);
                const cd ph = g / ag; /* y'' = conj(ph) y has a real overlap ag with x */
                const double zeta = (be - al) / (2 * ag);
                const double t = (zeta >= 0 ? 1 : -1) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                const double c = 1 / sqrt(1 + t * t), s = c * t;
                for (int64_t k = 0; k < m; k++) {
                    const cd xi = x[k], yi = conj(ph) * y[k];
                    x[k] = c * xi - s * yi;
                    y[k] = s * xi + c * yi;
                }
            }
        if (off < 1e-15) break;
    }
    for (int64_t i = 0; i < nc; i++) {
        double s = 0;
        for (int64_t t = 0; t < m; t++) s += creal(a[i * m + t] * conj(a[i * m + t]));
        sv[i] = sqrt(s);
    }
}

/* The entropy of the cut [0, k) | [k, n) from the Schmidt coefficients of psi as a matrix
 * A[h][l] = psi[h 2^k + l]. Columns = the smaller side. */
static double schmidt_entropy(const rf_c128 *psi, int n, int k) {
    const int64_t lo = (int64_t)1 << k, hi = (int64_t)1 << (n - k);
    const int cols_are_lo = lo <= hi;
    const int64_t nc = cols_are_lo ? lo : hi, m = cols_are_lo ? hi : lo;
    cd *a = rf_malloc(sizeof *a * (size_t)(nc * m));
    for (int64_t h = 0; h < hi; h++)
        for (int64_t l = 0; l < lo; l++) {
            const cd v = psi[h * lo + l];
            if (cols_are_lo)
                a[l * m + h] = v;
            else
                a[h * m + l] = v;
        }
    double *sv = rf_malloc(sizeof *sv * (size_t)nc), tot = 0, S = 0;
    jacobi_svd(a, m, nc, sv);
    for (int64_t i = 0; i < nc; i++) tot += sv[i] * sv[i];
    for (int64_t i = 0; i < nc; i++) {
        const double x = sv[i] * sv[i] / tot;
        if (x > 0) S -= x * log(x);
    }
    free(sv), free(a);
    return S;
}

static void check_against_schmidt(const rf_c128 *psi, int n, double tol) {
    double S1[64], S2[64];
    rf_sv_entropy(psi, n, S1);
    rf_sv_entropy_ref(psi, n, S2);
    for (int k = 1; k < n; k++) {
        const double want = schmidt_entropy(psi, n, k);
        assert_true(fabs(S1[k - 1] - want) < tol);
        assert_true(fabs(S2[k - 1] - want) < tol);
    }
}

static void test_random_states(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 21);
    for (int n = 2; n <= 10; n++)
        for (int it = 0; it < 2; it++) {
            rf_c128 *psi = fx_state(&r, n);
            check_against_schmidt(psi, n, 1e-10);
            free(psi);
        }
    /* a circuit's output, with more structure than a Gaussian state */
    const int n = 12, L = 2;
    rf_c128 *psi = rf_calloc((size_t)1 << n, sizeof *psi), *work = rf_malloc(sizeof *work << n);
    psi[0] = 1;
    double *ang = fx_angles(&r, L * n * 3);
    rf_sv_circuit(psi, work, n, L, ang, RF_SV_CHAIN);
    check_against_schmidt(psi, n, 1e-10);
    free(ang), free(work), free(psi);
}

static void test_product_states(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 22);
    const int n = 9;
    cd f[64][4]; /* psi = kron of random one-qubit states: column 0 of each factor */
    for (int q = 0; q < n; q++) {
        cd a = rf_rng_normal(&r) + I * rf_rng_normal(&r),
           b = rf_rng_normal(&r) + I * rf_rng_normal(&r);
        const double s = sqrt(creal(a * conj(a) + b * conj(b)));
        f[q][0] = a / s, f[q][1] = 0, f[q][2] = b / s, f[q][3] = 0;
    }
    cd *K = fx_kron_all(n, f);
    const int64_t d = (int64_t)1 << n;
    rf_c128 *psi = rf_malloc(sizeof *psi << n);
    for (int64_t j = 0; j < d; j++) psi[j] = K[j * d]; /* column 0 */
    double S[64];
    rf_sv_entropy(psi, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1]) < 1e-10);
    rf_c64 *p32 = fx_to_c64(psi, n);
    rf_sv_entropy(p32, n, S);
    free(p32);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1]) < 1e-5);
    /* a rotation layer keeps a product state a product state */
    double *ang = fx_angles(&r, 3 * n);
    rf_sv_rotation_layer(psi, n, ang);
    rf_sv_entropy(psi, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1]) < 1e-10);
    free(ang), free(psi), free(K);
}

static void test_bell_and_ghz(void **state) {
    (void)state;
    double S[64];
    rf_c128 bell[4] = {M_SQRT1_2, 0, 0, M_SQRT1_2};
    rf_sv_entropy(bell, 2, S);
    assert_true(fabs(S[0] - log(2)) < 1e-14);
    const int n = 7;
    const int64_t N = (int64_t)1 << n;
    rf_c128 *ghz = rf_calloc((size_t)N, sizeof *ghz);
    ghz[0] = ghz[N - 1] = M_SQRT1_2;
    rf_sv_entropy(ghz, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1] - log(2)) < 1e-14);
    /* GHZ the way a circuit makes it: RY(pi/2) on qubit 0 (H up to a phase), then the chain */
    rf_c128 *psi = rf_calloc((size_t)N, sizeof *psi), *out = rf_malloc(sizeof *out * (size_t)N);
    psi[0] = 1;
    double ang[3 * 7] = {0};
    ang[1] = M_PI / 2;
    rf_sv_rotation_layer(psi, n, ang);
    rf_sv_entangle(psi, out, n, RF_SV_CHAIN, 0);
    rf_sv_entropy(out, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1] - log(2)) < 1e-14);
    /* a Bell pair between qubits 0 and n-1, the others in |0>: every cut separates the pair */
    memset(psi, 0, sizeof *psi * (size_t)N);
    psi[0] = psi[1 | (N >> 1)] = M_SQRT1_2;
    rf_sv_entropy(psi, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1] - log(2)) < 1e-14);
    rf_c64 *f = fx_to_c64(psi, n);
    rf_sv_entropy(f, n, S);
    for (int k = 1; k < n; k++) assert_true(fabs(S[k - 1] - log(2)) < 1e-6);
    free(f), free(out), free(psi), free(ghz);
}

static void test_c64_vs_c128(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 23);
    const int n = 13;
    rf_c128 *psi = fx_state(&r, n);
    rf_c64 *f = fx_to_c64(psi, n);
    double S1[64], S2[64];
    rf_sv_entropy(psi, n, S1);
    rf_sv_entropy(f, n, S2);
    for (int k = 1; k < n; k++) assert_true(fabs(S1[k - 1] - S2[k - 1]) < 1e-5);
    free(f), free(psi);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_states),
        cmocka_unit_test(test_product_states),
        cmocka_unit_test(test_bell_and_ghz),
        cmocka_unit_test(test_c64_vs_c128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
