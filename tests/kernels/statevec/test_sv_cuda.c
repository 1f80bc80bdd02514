/* test_sv_cuda.c -- the GPU state-vector kernels (kernels/statevec/statevec.cuh) against the CPU
 * ones: single gates on every qubit, layers, the entanglers and their inverses, circuits,
 * probabilities, <Z>, adjoint gradients; complex128 and complex64; sizes that exercise one to
 * four GPU passes. Skips (cmocka skip, exit 0) when built without CUDA or when no device can be
 * used (cudaGetDeviceCount fails: no GPU, no driver). */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>

#include "tests/fixtures/dense_statevec.h"
#ifdef RF_HAVE_CUDA
#include "kernels/statevec/statevec.cuh"

static int no_gpu(void) {
    if (rf_sv_gpu_available()) return 0;
    print_message("skip: no CUDA device (cudaGetDeviceCount failed or found none)\n");
    return 1;
}

/* dev <- host state, and back */
static void *up(const void *h, size_t bytes) {
    void *d = rf_sv_gpu_malloc(bytes);
    rf_sv_gpu_upload(d, h, bytes);
    return d;
}

static void test_gpu_gates_c128(void **state) {
    (void)state;
    if (no_gpu()) skip();
    rf_rng r;
    rf_rng_init(&r, 31);
    const int sizes[] = {1, 3, 8, 11, 12, 17, 22};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int n = sizes[s];
        const int64_t N = (int64_t)1 << n;
        const size_t B = sizeof(rf_c128) << n;
        rf_c128 *psi = fx_state(&r, n), *cpu = fx_copy(psi, n), *got = rf_malloc(B),
                *cw = rf_malloc(B);
        void *d = up(psi, B), *dw = rf_sv_gpu_malloc(3 * B);
        for (int q = 0; q < n; q++) { /* every qubit, a random 2x2 */
            rf_c128 U[4];
            for (int i = 0; i < 4; i++) U[i] = (rf_rng_normal(&r) + I * rf_rng_normal(&r)) / 2;
            rf_sv_apply_1q(cpu, n, q, U);
            rf_sv_gpu_apply_1q_c128(d, n, q, (const double *)U);
        }
        rf_sv_gpu_download(got, d, B);
        double scale = 0;
        for (int64_t j = 0; j < N; j++) scale = cabs(cpu[j]) > scale ? cabs(cpu[j]) : scale;
        assert_true(fx_maxdiff(got, cpu, N) < 1e-12 * scale);
        /* a fresh state through layers, entanglers, a circuit */
        rf_sv_gpu_upload(d, psi, B);
        memcpy(cpu, psi, B);
        rf_c128 *U = rf_malloc(sizeof *U * 4 * (size_t)n);
        for (int i = 0; i < 4 * n; i++) U[i] = cexp(I * rf_rng_normal(&r)) * M_SQRT1_2;
        rf_sv_apply_layer(cpu, n, U);
        rf_sv_gpu_apply_layer_c128(d, n, (const double *)U);
        rf_sv_gpu_download(got, d, B);
        assert_true(fx_maxdiff(got, cpu, N) < 1e-12);
        free(U);
        double *ang = fx_angles(&r, 3 * 3 * n);
        rf_sv_rotation_layer(cpu, n, ang);
        rf_sv_gpu_rotation_layer_c128(d, n, ang);
        rf_sv_gpu_download(got, d, B);
        assert_true(fx_maxdiff(got, cpu, N) < 1e-12);
        for (int e = 0; e < 2; e++)
            for (int inv = 0; inv < 2; inv++) {
                rf_sv_entangle(cpu, cw, n, (rf_sv_entangler)e, inv);
                rf_sv_gpu_entangle_c128(d, dw, n, e, inv);
                rf_sv_gpu_download(got, dw, B);
                assert_true(fx_maxdiff(got, cw, N) == 0);
            }
        for (int e = 0; e < 2; e++) {
            rf_sv_circuit(cpu, cw, n, 3, ang, (rf_sv_entangler)e);
            rf_sv_gpu_circuit_c128(d, dw, n, 3, ang, e);
            rf_sv_gpu_download(got, d, B);
            assert_true(fx_maxdiff(got, cpu, N) < 1e-12);
        }
        /* read-outs */
        double *p = rf_malloc(sizeof *p << n), *pg = rf_malloc(sizeof *pg << n), z[64], zg[64];
        void *dp = rf_sv_gpu_malloc(sizeof *p << n);
        rf_sv_probabilities(cpu, n, p);
        rf_sv_gpu_probabilities_c128(d, n, dp);
        rf_sv_gpu_download(pg, dp, sizeof *p << n);
        for (int64_t j = 0; j < N; j++) assert_true(fabs(p[j] - pg[j]) < 1e-15);
        rf_sv_expval_z(cpu, n, z);
        rf_sv_gpu_expval_z_c128(d, n, zg);
        for (int q = 0; q < n; q++) assert_true(fabs(z[q] - zg[q]) < 1e-12);
        /* adjoint: dL/dp = p - 1/N (the gradient of |p - uniform|^2 / 2) */
        for (int64_t j = 0; j < N; j++) p[j] -= 1.0 / N;
        rf_sv_gpu_upload(dp, p, sizeof *p << n);
        double *g = rf_malloc(sizeof *g * 9 * n), *gg = rf_malloc(sizeof *gg * 9 * n);
        rf_c128 *cw3 = rf_malloc(3 * B);
        rf_sv_adjoint(cpu, p, cw3, n, 3, ang, RF_SV_RING, g);
        rf_sv_gpu_adjoint_c128(d, dp, dw, n, 3, ang, 1, gg);
        rf_sv_gpu_download(got, d, B);
        assert_true(fx_maxdiff(got, cpu, N) < 1e-12);
        for (int i = 0; i < 9 * n; i++) assert_true(fabs(g[i] - gg[i]) < 1e-11);
        free(cw3), free(gg), free(g), free(pg), free(p), free(ang);
        rf_sv_gpu_free(dp), rf_sv_gpu_free(dw), rf_sv_gpu_free(d);
        free(cw), free(got), free(cpu), free(psi);
    }
}

static void test_gpu_c64(void **state) {
    (void)state;
    if (no_gpu()) skip();
    rf_rng r;
    rf_rng_init(&r, 32);
    const int sizes[] = {2, 12, 20};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int n = sizes[s], L = 2;
        const int64_t N = (int64_t)1 << n;
        const size_t B = sizeof(rf_c64) << n;
        rf_c128 *p128 = fx_state(&r, n);
        rf_c64 *cpu = fx_to_c64(p128, n), *got = rf_malloc(B), *cw = rf_malloc(3 * B);
        void *d = up(cpu, B), *dw = rf_sv_gpu_malloc(3 * B);
        double *ang = fx_angles(&r, 3 * L * n);
        rf_sv_circuit(cpu, cw, n, L, ang, RF_SV_CHAIN);
        rf_sv_gpu_circuit_c64(d, dw, n, L, ang, 0);
        rf_sv_gpu_download(got, d, B);
        for (int64_t j = 0; j < N; j++) assert_true(cabsf(got[j] - cpu[j]) < 1e-6f);
        float *p = rf_malloc(sizeof *p * (size_t)N);
        void *dp = rf_sv_gpu_malloc(sizeof *p * (size_t)N);
        rf_sv_probabilities(cpu, n, p);
        for (int64_t j = 0; j < N; j++) p[j] = 2 * p[j];
        rf_sv_gpu_upload(dp, p, sizeof *p * (size_t)N);
        double g[3 * 2 * 20], gg[3 * 2 * 20], z[20], zg[20];
        rf_sv_expval_z(cpu, n, z);
        rf_sv_gpu_expval_z_c64(d, n, zg);
        for (int q = 0; q < n; q++) assert_true(fabs(z[q] - zg[q]) < 1e-6);
        rf_sv_adjoint(cpu, p, cw, n, L, ang, RF_SV_CHAIN, g);
        rf_sv_gpu_adjoint_c64(d, dp, dw, n, L, ang, 0, gg);
        for (int i = 0; i < 3 * L * n; i++) assert_true(fabs(g[i] - gg[i]) < 1e-4);
        rf_sv_gpu_free(dp), rf_sv_gpu_free(dw), rf_sv_gpu_free(d);
        free(p), free(ang), free(cw), free(got), free(cpu), free(p128);
    }
}
#else
static void test_gpu_gates_c128(void **state) {
    (void)state;
    print_message("skip: built without CUDA (RF_ENABLE_CUDA=OFF)\n");
    skip();
}
static void test_gpu_c64(void **state) {
    (void)state;
    skip();
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_gates_c128),
        cmocka_unit_test(test_gpu_c64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
