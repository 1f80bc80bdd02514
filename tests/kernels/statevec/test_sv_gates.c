/* test_sv_gates.c -- the state-vector gates against dense 2^n x 2^n matrices built by Kronecker
 * products (n <= 8), the fast kernels against their _ref twins (n up to 14), the entanglers' one
 * permutation pass against gate-by-gate CNOTs, the read-outs, amplitude encoding, complex64
 * against complex128, and the entangler names. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>

#include "tests/fixtures/dense_statevec.h"
#include "tests/fixtures/simd_path.h"

static const int dense_sizes[] = {1, 2, 3, 5, 8};

/* Every single-qubit gate (RX, RY, RZ, the fused rotation, a random non-unitary 2x2) on every
 * qubit, fast and ref, c128 and c64, against the dense Kronecker matrix. */
static void test_gates_vs_dense(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 1);
    for (size_t s = 0; s < sizeof dense_sizes / sizeof *dense_sizes; s++) {
        const int n = dense_sizes[s];
        const int64_t d = (int64_t)1 << n;
        for (int q = 0; q < n; q++)
            for (int kind = 0; kind < 5; kind++) {
                cd U[4];
                const double t = 4 * rf_rng_uniform(&r) - 2;
                if (kind == 0) fx_rx(t, U);
                if (kind == 1) fx_ry(t, U);
                if (kind == 2) fx_rz(t, U);
                if (kind == 3) fx_fused(t, 0.3 - t, 1.1 * t, U);
                if (kind == 4)
                    for (int i = 0; i < 4; i++) U[i] = rf_rng_normal(&r) + I * rf_rng_normal(&r);
                rf_c128 *psi = fx_state(&r, n), *want = rf_malloc(sizeof *want << n);
                cd *D = fx_dense_1q(n, q, U);
                fx_matvec(D, psi, want, d);
                rf_c128 *a = fx_copy(psi, n), *b = fx_copy(psi, n);
                rf_sv_apply_1q(a, n, q, U);
                rf_sv_apply_1q_ref(b, n, q, U);
                assert_true(fx_maxdiff(a, want, d) < 1e-13);
                assert_true(fx_maxdiff(b, want, d) < 1e-13);
                rf_c64 *f = fx_to_c64(psi, n), U32[4];
                for (int i = 0; i < 4; i++) U32[i] = (rf_c64)U[i];
                rf_sv_apply_1q(f, n, q, U32);
                assert_true(fx_maxdiff64(f, want, d) < 2e-6 * (kind == 4 ? 4 : 1));
                free(f), free(b), free(a), free(D), free(want), free(psi);
            }
    }
}

/* rf_sv_fused_rotation: U = RZ(c) RY(b) RX(a), unitary, and its derivatives by central
 * differences. */
static void test_fused_rotation(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 2);
    for (int it = 0; it < 20; it++) {
        double x[3] = {6 * rf_rng_uniform(&r) - 3, 6 * rf_rng_uniform(&r) - 3,
                       6 * rf_rng_uniform(&r) - 3};
        cd U[4], dU[3][4], W[4];
        rf_sv_fused_rotation(x[0], x[1], x[2], U, dU);
        fx_fused(x[0], x[1], x[2], W);
        for (int i = 0; i < 4; i++) assert_true(cabs(U[i] - W[i]) < 1e-14);
        /* U^dagger U = 1 and det U = 1 */
        assert_true(cabs(conj(U[0]) * U[0] + conj(U[2]) * U[2] - 1) < 1e-14);
        assert_true(cabs(conj(U[0]) * U[1] + conj(U[2]) * U[3]) < 1e-14);
        assert_true(cabs(U[0] * U[3] - U[1] * U[2] - 1) < 1e-14);
        for (int k = 0; k < 3; k++) {
            double xp[3] = {x[0], x[1], x[2]}, xm[3] = {x[0], x[1], x[2]};
            const double h = 1e-6;
            xp[k] += h, xm[k] -= h;
            cd P[4], M[4];
            fx_fused(xp[0], xp[1], xp[2], P);
            fx_fused(xm[0], xm[1], xm[2], M);
            for (int i = 0; i < 4; i++)
                assert_true(cabs((P[i] - M[i]) / (2 * h) - dU[k][i]) < 1e-8);
        }
    }
}

/* A whole layer (fused rotations then the entangler) against its dense matrix, both entanglers. */
static void test_layer_vs_dense(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 3);
    for (size_t s = 0; s < sizeof dense_sizes / sizeof *dense_sizes; s++)
        for (int e = 0; e < 2; e++) {
            const int n = dense_sizes[s];
            const int64_t d = (int64_t)1 << n;
            double *ang = fx_angles(&r, 3 * n);
            rf_c128 *psi = fx_state(&r, n), *want = rf_malloc(sizeof *want << n),
                    *work = rf_malloc(sizeof *work << n);
            cd *D = fx_dense_layer(n, ang, (rf_sv_entangler)e);
            fx_matvec(D, psi, want, d);
            rf_c128 *a = fx_copy(psi, n), *b = fx_copy(psi, n);
            rf_sv_circuit(a, work, n, 1, ang, (rf_sv_entangler)e);
            rf_sv_circuit_ref(b, work, n, 1, ang, (rf_sv_entangler)e);
            assert_true(fx_maxdiff(a, want, d) < 1e-13);
            assert_true(fx_maxdiff(b, want, d) < 1e-13);
            /* the rotation layer alone: the same dense matrix with no CNOTs (n = 1) is covered
             * above; here against the kron of the fused matrices */
            cd f[64][4];
            for (int q = 0; q < n; q++) fx_fused(ang[3 * q], ang[3 * q + 1], ang[3 * q + 2], f[q]);
            cd *K = fx_kron_all(n, f);
            fx_matvec(K, psi, want, d);
            memcpy(a, psi, sizeof *a << n);
            rf_sv_rotation_layer(a, n, ang);
            assert_true(fx_maxdiff(a, want, d) < 1e-13);
            free(K), free(b), free(a), free(D), free(work), free(want), free(psi), free(ang);
        }
}

/* The entanglers and their inverses against the product of dense CNOT matrices. */
static void test_entangler_vs_dense(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 4);
    for (size_t s = 0; s < sizeof dense_sizes / sizeof *dense_sizes; s++)
        for (int e = 0; e < 2; e++) {
            const int n = dense_sizes[s];
            const int64_t d = (int64_t)1 << n;
            double zero[3 * 8] = {0};
            cd *D = fx_dense_layer(n, zero, (rf_sv_entangler)e); /* identity rotations */
            rf_c128 *psi = fx_state(&r, n), *want = rf_malloc(sizeof *want << n),
                    *out = rf_malloc(sizeof *out << n), *back = rf_malloc(sizeof *back << n);
            fx_matvec(D, psi, want, d);
            for (int ref = 0; ref < 2; ref++) {
                (ref ? rf_sv_entangle_ref_c128 : rf_sv_entangle_c128)(psi, out, n, e, 0);
                assert_true(fx_maxdiff(out, want, d) == 0);
                (ref ? rf_sv_entangle_ref_c128 : rf_sv_entangle_c128)(out, back, n, e, 1);
                assert_true(fx_maxdiff(back, psi, d) == 0);
            }
            free(back), free(out), free(want), free(psi), free(D);
        }
}

/* The one-pass permutation against single CNOTs applied one by one, n up to 14, and the
 * published index map against the basis states' images. */
static void test_entangler_vs_gates(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 5);
    for (int n = 1; n <= 14; n++)
        for (int e = 0; e < 2; e++) {
            const int64_t N = (int64_t)1 << n;
            rf_c128 *psi = fx_state(&r, n), *gates = fx_copy(psi, n),
                    *perm = rf_malloc(sizeof *perm << n);
            for (int q = 0; q + 1 < n; q++) rf_sv_cnot_ref(gates, n, q, q + 1);
            if (e == RF_SV_RING && n >= 2) rf_sv_cnot_ref(gates, n, n - 1, 0);
            rf_sv_entangle(psi, perm, n, (rf_sv_entangler)e, 0);
            assert_true(fx_maxdiff(perm, gates, N) == 0);
            /* c64 too */
            rf_c64 *f = fx_to_c64(psi, n), *g = rf_malloc(sizeof *g << n);
            rf_sv_entangle(f, g, n, (rf_sv_entangler)e, 0);
            assert_true(fx_maxdiff64(g, gates, N) < 1e-6);
            /* the map: basis state k (one 1 bit) goes where the gates send it */
            uint64_t cols[RF_SV_MAX_QUBITS];
            rf_sv_entangler_map(n, (rf_sv_entangler)e, 1, cols); /* inverse's gather map = F */
            for (int k = 0; k < n; k++) {
                rf_c128 *b = rf_calloc((size_t)N, sizeof *b);
                b[(int64_t)1 << k] = 1;
                for (int q = 0; q + 1 < n; q++) rf_sv_cnot_ref(b, n, q, q + 1);
                if (e == RF_SV_RING && n >= 2) rf_sv_cnot_ref(b, n, n - 1, 0);
                assert_true(creal(b[cols[k]]) == 1);
                free(b);
            }
            free(g), free(f), free(perm), free(gates), free(psi);
        }
}

/* Fast against ref for n up to 19: single gates on every qubit, layers of random 2x2s, rotation
 * layers, circuits, read-outs, encoding; both precisions. */
static void test_fast_vs_ref(void **state) {
    (void)state;
    rf_rng r;
    rf_rng_init(&r, 6);
    /* 14 and below: one pass (c128 tiles hold 2^14 amplitudes, c64 2^15); 16 and 19: two and
     * three passes, the later ones over rows copied into a buffer */
    const int sizes[] = {1, 2, 4, 7, 11, 12, 13, 14, 16, 19};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int n = sizes[s];
        const int64_t N = (int64_t)1 << n;
        rf_c128 *psi = fx_state(&r, n), *a = fx_copy(psi, n), *b = fx_copy(psi, n),
                *work = rf_malloc(sizeof *work << n);
        for (int q = 0; q < n; q++) {
            cd U[4];
            for (int i = 0; i < 4; i++) U[i] = (rf_rng_normal(&r) + I * rf_rng_normal(&r)) / 2;
            rf_sv_apply_1q(a, n, q, U);
            rf_sv_apply_1q_ref(b, n, q, U);
            assert_true(fx_maxdiff(a, b, N) < 1e-12);
        }
        cd *U = rf_malloc(sizeof *U * 4 * (size_t)n);
        for (int i = 0; i < 4 * n; i++) U[i] = (rf_rng_normal(&r) + I * rf_rng_normal(&r)) / 2;
        rf_sv_apply_layer(a, n, U);
        rf_sv_apply_layer_ref(b, n, U);
        double scale = 0;
        for (int64_t j = 0; j < N; j++) scale = cabs(b[j]) > scale ? cabs(b[j]) : scale;
        assert_true(fx_maxdiff(a, b, N) < 1e-13 * scale);
        free(U);
        const int L = 3;
        double *ang = fx_angles(&r, L * n * 3);
        for (int e = 0; e < 2; e++) {
            memcpy(a, psi, sizeof *a << n), memcpy(b, psi, sizeof *b << n);
            rf_sv_circuit(a, work, n, L, ang, (rf_sv_entangler)e);
            rf_sv_circuit_ref(b, work, n, L, ang, (rf_sv_entangler)e);
            assert_true(fx_maxdiff(a, b, N) < 1e-13);
            rf_c64 *f = fx_to_c64(psi, n), *fw = rf_malloc(sizeof *fw << n), *g = fx_to_c64(psi, n);
            rf_sv_circuit(f, fw, n, L, ang, (rf_sv_entangler)e);
            rf_sv_circuit_ref(g, fw, n, L, ang, (rf_sv_entangler)e);
            assert_true(fx_maxdiff64(f, b, N) < 1e-5);
            assert_true(fx_maxdiff64(g, b, N) < 1e-5);
            free(g), free(fw), free(f);
        }
        /* read-outs */
        double *p1 = rf_malloc(sizeof *p1 << n), *p2 = rf_malloc(sizeof *p2 << n);
        rf_sv_probabilities(a, n, p1);
        rf_sv_probabilities_ref(a, n, p2);
        double sum = 0;
        for (int64_t j = 0; j < N; j++) assert_true(fabs(p1[j] - p2[j]) < 1e-16), sum += p1[j];
        assert_true(fabs(sum - 1) < 1e-12);
        double z1[32], z2[32];
        rf_sv_expval_z(a, n, z1);
        rf_sv_expval_z_ref(a, n, z2);
        for (int q = 0; q < n; q++) {
            double want = 0; /* from the probabilities */
            for (int64_t j = 0; j < N; j++) want += ((j >> q) & 1) ? -p2[j] : p2[j];
            assert_true(fabs(z1[q] - want) < 1e-12);
            assert_true(fabs(z2[q] - want) < 1e-12);
        }
        rf_c64 *f = fx_to_c64(a, n);
        float *pf = rf_malloc(sizeof *pf << n);
        rf_sv_probabilities(f, n, pf);
        for (int64_t j = 0; j < N; j++) assert_true(fabs(pf[j] - p2[j]) < 1e-6);
        rf_sv_expval_z(f, n, z1);
        for (int q = 0; q < n; q++) assert_true(fabs(z1[q] - z2[q]) < 1e-5);
        free(pf), free(f), free(p2), free(p1), free(ang), free(work), free(b), free(a), free(psi);
    }
}

/* Amplitude encoding: normalized, zero-padded, and the three refusals. */
static void test_encode(void **state) {
    (void)state;
    const int n = 13;
    const int64_t N = (int64_t)1 << n, len = N - 100;
    double *x = rf_malloc(sizeof *x * (size_t)N);
    for (int64_t j = 0; j < N; j++) x[j] = sin(0.37 * j) + (j % 7 == 0 ? 3 : 0);
    rf_c128 *a = rf_malloc(sizeof *a << n), *b = rf_malloc(sizeof *b << n);
    assert_int_equal(rf_sv_encode(a, n, x, len), RF_OK);
    assert_int_equal(rf_sv_encode_ref(b, n, x, len), RF_OK);
    double s = 0, nx = 0;
    for (int64_t j = 0; j < len; j++) nx += x[j] * x[j];
    for (int64_t j = 0; j < N; j++) {
        s += creal(a[j] * conj(a[j]));
        assert_true(cimag(a[j]) == 0);
        assert_true(fabs(creal(a[j]) - (j < len ? x[j] / sqrt(nx) : 0)) < 1e-15);
    }
    assert_true(fabs(s - 1) < 1e-13);
    assert_true(fx_maxdiff(a, b, N) < 1e-15);
    assert_int_equal(rf_sv_encode(a, n, x, N + 1), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "more than the 2^13"));
    for (int64_t j = 0; j < N; j++) x[j] = 0;
    assert_int_equal(rf_sv_encode(a, n, x, N), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "all zero"));
    x[5] = NAN;
    assert_int_equal(rf_sv_encode(a, n, x, N), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "NaN"));
    float xf[3] = {3, 0, 4};
    rf_c64 f[4];
    assert_int_equal(rf_sv_encode(f, 2, xf, 3), RF_OK);
    assert_true(fabsf(crealf(f[0]) - 0.6f) < 1e-7f && fabsf(crealf(f[2]) - 0.8f) < 1e-7f &&
                f[3] == 0);
    free(b), free(a), free(x);
}

/* Known states: |0..0> after RX(pi) on every qubit is |1..1> (up to phase); the chain maps
 * |1 0 0 ..> (qubit 0 set) to all ones; <Z> of basis states. */
static void test_known_states(void **state) {
    (void)state;
    const int n = 6;
    rf_c128 psi[64] = {0}, out[64];
    psi[0] = 1;
    double ang[18] = {0};
    for (int q = 0; q < n; q++) ang[3 * q] = M_PI;
    rf_sv_rotation_layer(psi, n, ang);
    assert_true(cabs(psi[63]) > 1 - 1e-15);
    memset(psi, 0, sizeof psi);
    psi[1] = 1;
    rf_sv_entangle(psi, out, n, RF_SV_CHAIN, 0);
    assert_true(creal(out[63]) == 1);
    rf_sv_entangle(psi, out, n, RF_SV_RING, 0); /* then CNOT(5 -> 0) clears qubit 0 */
    assert_true(creal(out[62]) == 1);
    double z[6];
    rf_sv_expval_z(out, n, z);
    assert_true(z[0] == 1);
    for (int q = 1; q < n; q++) assert_true(z[q] == -1);
}

/* Entangler names both ways; an unknown one is refused naming the setting (the CLI turns
 * "entangler" into its flag). */
static void test_entangler_names(void **state) {
    (void)state;
    rf_sv_entangler e = RF_SV_CHAIN;
    assert_int_equal(rf_sv_entangler_parse("ring", &e), RF_OK);
    assert_int_equal(e, RF_SV_RING);
    assert_string_equal(rf_sv_entangler_name(e), "ring");
    assert_int_equal(rf_sv_entangler_parse("chain", &e), RF_OK);
    assert_int_equal(e, RF_SV_CHAIN);
    assert_string_equal(rf_sv_entangler_name(e), "chain");
    assert_int_equal(rf_sv_entangler_parse("star", &e), RF_ERR);
    assert_string_equal(rf_last_error(), "entangler 'star': expected chain or ring");
    assert_string_equal(rf_error_field(), "statevec.entangler");
    assert_int_equal(e, RF_SV_CHAIN);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gates_vs_dense),
        cmocka_unit_test(test_fused_rotation),
        cmocka_unit_test(test_layer_vs_dense),
        cmocka_unit_test(test_entangler_vs_dense),
        cmocka_unit_test(test_entangler_vs_gates),
        cmocka_unit_test(test_fast_vs_ref),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_known_states),
        cmocka_unit_test(test_entangler_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
