/* test_paramgen.c -- ParamGen (kernels/vitgen/paramgen.c): parameter-shift angle gradients against
 * central finite differences (noise-free and with a fixed noise pattern), the loss gradient
 * through U V^T and the MLP against finite differences, training quality (no worse than plain
 * sharing, near the best rank-r error of W - S by a truncated SVD), determinism, cancellation,
 * bad inputs and the documented parameter counts and tensors. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/statevec/statevec.h"
#include "kernels/vitgen/paramgen.h"
#include "kernels/vitgen/vitgen.h"

/* LAPACK from OpenBLAS (LAPACKE's header may be absent; gfortran ABI: trailing char lengths). */
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu, double *vt, const int *ldvt,
             double *work, const int *lwork, int *info, size_t jobu_len, size_t jobvt_len);

static float *randn(rf_rng *r, int64_t n, double scale) {
    float *x = rf_malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(scale * rf_rng_normal(r));
    return x;
}

/* a * x + b * y */
static float *mix(int64_t n, double a, const float *x, double b, const float *y) {
    float *z = rf_malloc((size_t)n * sizeof *z);
    for (int64_t i = 0; i < n; i++) z[i] = (float)(a * x[i] + b * y[i]);
    return z;
}

static rf_gen_config small_config(int steps) {
    rf_gen_config c = rf_gen_config_default(RF_GEN_PARAMGEN);
    c.steps = steps, c.width = 16, c.rank = 2, c.qubits = 4;
    return c;
}

static void test_parameter_shift(void **state) {
    (void)state;
    enum { Q = 4, L = 3, NA = L * Q * 3 };
    rf_rng r;
    rf_rng_init(&r, 7);
    double x[1 << Q], angles[NA], z[Q], zp[Q], zm[Q], dz[NA * Q];
    for (int j = 0; j < 1 << Q; j++) x[j] = rf_rng_normal(&r);
    for (int j = 0; j < NA; j++) angles[j] = (2 * rf_rng_uniform(&r) - 1) * M_PI;
    rf_c128 psi0[1 << Q];
    assert_int_equal(rf_sv_encode(psi0, Q, x, 1 << Q), RF_OK);
    unsigned char pattern[L * Q];
    for (int j = 0; j < L * Q; j++) pattern[j] = (unsigned char)(j * 7 % 5 % 4); /* 0..3 mixed */
    for (int noisy = 0; noisy < 2; noisy++) {
        const unsigned char *noise = noisy ? pattern : NULL;
        rf_paramgen_circuit(psi0, Q, L, angles, noise, z, dz);
        double m = 0;
        for (int j = 0; j < NA * Q; j++) m = fmax(m, fabs(dz[j]));
        assert_true(m > 0.05);
        const double h = 1e-5;
        for (int j = 0; j < NA; j++) {
            const double a = angles[j];
            angles[j] = a + h;
            rf_paramgen_circuit(psi0, Q, L, angles, noise, zp, NULL);
            angles[j] = a - h;
            rf_paramgen_circuit(psi0, Q, L, angles, noise, zm, NULL);
            angles[j] = a;
            for (int k = 0; k < Q; k++)
                assert_true(fabs((zp[k] - zm[k]) / (2 * h) - dz[j * Q + k]) < 1e-8);
        }
    }
    /* the noise pattern does change z */
    double z0[Q], z1[Q];
    rf_paramgen_circuit(psi0, Q, L, angles, NULL, z0, NULL);
    rf_paramgen_circuit(psi0, Q, L, angles, pattern, z1, NULL);
    double d = 0;
    for (int k = 0; k < Q; k++) d = fmax(d, fabs(z0[k] - z1[k]));
    assert_true(d > 1e-3);
}

/* dL/dtheta of one model (generator or baseline) against central differences of the loss at a
 * theta with every part active (U != 0, random angles), for every coordinate of the small shape. */
static void check_loss_grad(int quantum, const unsigned char *noise) {
    enum { OUT = 8, IN = 12 };
    rf_rng r;
    rf_rng_init(&r, 11 + quantum);
    float *S = randn(&r, OUT * IN, 1.0), *W = randn(&r, OUT * IN, 1.0);
    rf_gen_config c = small_config(1);
    rf_paramgen *p = rf_paramgen_new(S, W, OUT, IN, &c, 5, quantum);
    const int64_t nt = rf_paramgen_ntheta(p);
    float *theta = rf_malloc(nt * sizeof *theta), *grad = rf_malloc(nt * sizeof *grad);
    rf_paramgen_init(p, theta);
    for (int64_t j = 0; j < nt; j++) theta[j] += (float)(0.3 * rf_rng_normal(&r));
    rf_paramgen_loss(p, theta, noise, grad);
    /* a float maximum (exact): GCC 12's aarch64 vectoriser crashes on a float -> double fmax */
    float m = 0;
    for (int64_t j = 0; j < nt; j++) m = fmaxf(m, fabsf(grad[j]));
    assert_true(m > 0);
    for (int64_t j = 0; j < nt; j++) {
        const float t = theta[j], h = 1e-2f;
        theta[j] = t + h;
        const double up = theta[j], lu = rf_paramgen_loss(p, theta, noise, NULL);
        theta[j] = t - h;
        const double dn = theta[j], ld = rf_paramgen_loss(p, theta, noise, NULL);
        theta[j] = t;
        const double fd = (lu - ld) / (up - dn);
        /* float G: the secant carries ~1e-4 m of rounding */
        assert_true(fabs(fd - grad[j]) <= 5e-4 * m + 1e-3 * fabs(grad[j]));
    }
    free(grad), free(theta), free(W), free(S);
    rf_paramgen_free(p);
}

static void test_loss_grad(void **state) {
    (void)state;
    unsigned char pattern[3 * 4] = {1, 0, 2, 3, 0, 0, 3, 1, 2, 0, 1, 0};
    check_loss_grad(1, NULL);
    check_loss_grad(1, pattern);
    check_loss_grad(0, NULL);
}

/* sqrt(sum_{k >= r} sigma_k^2) / ||W|| for D = W - S [out, in]: the best rank-r error. */
static double best_rank_err(const float *S, const float *W, int out, int in, int r) {
    double *D = rf_malloc((size_t)out * in * sizeof *D), *s = rf_malloc((size_t)in * sizeof *s);
    double w2 = 0, wq, dummy = 0;
    for (int j = 0; j < out * in; j++) D[j] = (double)W[j] - S[j], w2 += (double)W[j] * W[j];
    /* D row-major [out, in] is D^T column-major [in, out]: same singular values */
    int lwork = -1, info, one = 1;
    dgesvd_("N", "N", &in, &out, D, &in, s, &dummy, &one, &dummy, &one, &wq, &lwork, &info, 1, 1);
    lwork = (int)wq;
    double *work = rf_malloc((size_t)lwork * sizeof *work);
    dgesvd_("N", "N", &in, &out, D, &in, s, &dummy, &one, &dummy, &one, work, &lwork, &info, 1, 1);
    assert_int_equal(info, 0);
    double tail = 0;
    for (int k = r; k < (out < in ? out : in); k++) tail += s[k] * s[k];
    free(work), free(s), free(D);
    return sqrt(tail / w2);
}

static int cancel_at(void *ctx, const rf_progress_point *at) {
    int *left = ctx;
    assert_true(at->fraction > 0 && at->fraction <= 1);
    return --*left == 0;
}

/* A shared / own pair like two blocks of a ViT: S = 0.8 C + 0.6 A, W = 0.8 C + 0.6 B. */
static void test_train_pair(void **state) {
    (void)state;
    enum { OUT = 24, IN = 16 };
    rf_rng r;
    rf_rng_init(&r, 21);
    float *C = randn(&r, OUT * IN, 1.0), *A = randn(&r, OUT * IN, 1.0);
    float *B = randn(&r, OUT * IN, 1.0);
    float *S = mix(OUT * IN, 0.8, C, 0.6, A), *W = mix(OUT * IN, 0.8, C, 0.6, B);
    rf_gen_config c = small_config(150);
    rf_gen_result res;
    rf_gen_stats st;
    assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 3, &res, &st, NULL, NULL), RF_OK);
    const double best = best_rank_err(S, W, OUT, IN, c.rank);
    print_message("pair: shared %.6f  paramgen %.6f  baseline %.6f  best rank-%d %.6f\n",
                  st.shared_rel_w_err, st.rel_w_err, st.baseline_rel_w_err, c.rank, best);
    assert_true(st.rel_w_err < st.shared_rel_w_err && st.baseline_rel_w_err < st.shared_rel_w_err);
    assert_true(st.rel_w_err >= best * (1 - 1e-5) && st.rel_w_err <= 1.05 * best);
    assert_true(fabs(rf_gen_rel_err(res.weight, W, OUT * IN) - st.rel_w_err) < 1e-12);
    rf_gen_free(&res);
    free(W), free(S), free(B), free(A), free(C);
}

/* W - S of rank r plus a little noise: the trained error is near the truncated SVD's. */
static void test_near_best_rank(void **state) {
    (void)state;
    enum { OUT = 32, IN = 24, R = 2 };
    rf_rng r;
    rf_rng_init(&r, 31);
    float *S = randn(&r, OUT * IN, 1.0), *a = randn(&r, OUT * R, 1.0), *b = randn(&r, IN * R, 1.0);
    float *W = randn(&r, OUT * IN, 0.05); /* the noise, then W = S + 0.3 a b^T + noise */
    for (int o = 0; o < OUT; o++)
        for (int i = 0; i < IN; i++) {
            W[o * IN + i] += S[o * IN + i];
            for (int k = 0; k < R; k++) W[o * IN + i] += 0.3f * a[o * R + k] * b[i * R + k];
        }
    rf_gen_config c = small_config(300);
    c.rank = R;
    rf_gen_result res;
    rf_gen_stats st;
    assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 4, &res, &st, NULL, NULL), RF_OK);
    const double best = best_rank_err(S, W, OUT, IN, R);
    print_message("low rank: shared %.6f  paramgen %.6f  baseline %.6f  best rank-%d %.6f\n",
                  st.shared_rel_w_err, st.rel_w_err, st.baseline_rel_w_err, R, best);
    assert_true(st.rel_w_err <= 2 * best && st.baseline_rel_w_err <= 2 * best);
    rf_gen_free(&res);
    free(W), free(b), free(a), free(S);
}

static void test_deterministic_counts_cancel(void **state) {
    (void)state;
    enum { OUT = 8, IN = 12 };
    rf_rng r;
    rf_rng_init(&r, 41);
    float *S = randn(&r, OUT * IN, 1.0), *W = randn(&r, OUT * IN, 1.0);
    rf_gen_config c = small_config(20);
    c.noise = 0.2;
    rf_gen_result res[2];
    rf_gen_stats st[2];
    const int threads = omp_get_max_threads();
    for (int k = 0; k < 2; k++) { /* 1 thread, then 2: the same bits */
        omp_set_num_threads(k + 1);
        openblas_set_num_threads(k + 1);
        assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 9, &res[k], &st[k], NULL, NULL), RF_OK);
    }
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    assert_memory_equal(res[0].weight, res[1].weight, OUT * IN * sizeof(float));
    assert_true(st[0].rel_w_err == st[1].rel_w_err && st[0].baseline_rel_w_err == st[1].baseline_rel_w_err);
    assert_int_equal(res[0].ntensors, res[1].ntensors);
    for (int t = 0; t < res[0].ntensors; t++) {
        const rf_gen_tensor *a = &res[0].tensors[t], *b = &res[1].tensors[t];
        int64_t n = 1;
        for (int d = 0; d < a->ndim; d++) n *= a->dims[d];
        assert_memory_equal(a->data, b->data, n * sizeof(float));
    }
    assert_true(st[0].rel_w_err <= st[0].shared_rel_w_err);

    /* counts and tensors as documented */
    const int64_t q = c.qubits, w = c.width, ny = (OUT + IN) * c.rank;
    const int64_t mlp = (q + 1) * w + (w + 1) * w + (w + 1) * ny;
    assert_int_equal(st[0].params, mlp + c.layers * q * 3);
    assert_int_equal(st[0].baseline_params, mlp + q);
    assert_int_equal(st[0].qubits, q);
    assert_int_equal(st[0].layers, c.layers);
    assert_int_equal(st[0].steps, c.steps);
    const char *names[] = {"angles", "features", "mlp.0.weight", "mlp.0.bias", "mlp.1.weight",
                           "mlp.1.bias", "mlp.2.weight", "mlp.2.bias", "scale"};
    const int64_t sizes[] = {c.layers * q * 3, 1 << q, w * q, w, w * w, w, ny * w, ny, 1};
    assert_int_equal(res[0].ntensors, 9);
    int64_t total = 0;
    for (int t = 0; t < 9; t++) {
        const rf_gen_tensor *a = &res[0].tensors[t];
        int64_t n = 1;
        for (int d = 0; d < a->ndim; d++) n *= a->dims[d];
        assert_string_equal(a->name, names[t]);
        assert_int_equal(n, sizes[t]);
        if (t != 1 && t != 8) total += n; /* features and scale are fixed, not trained */
    }
    assert_int_equal(total, st[0].params);
    double ss = 0;
    for (int j = 0; j < OUT * IN; j++) ss += (double)S[j] * S[j];
    assert_true(fabs(res[0].tensors[8].data[0] - sqrt(ss / (OUT * IN))) < 1e-5);
    rf_gen_free(&res[0]), rf_gen_free(&res[1]);

    /* a different seed gives a different result */
    assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 10, &res[0], &st[0], NULL, NULL), RF_OK);
    assert_true(st[0].rel_w_err != st[1].rel_w_err);
    rf_gen_free(&res[0]);

    /* cancellation, in the baseline's steps and in the generator's */
    for (int at = 3; at <= 30; at += 27) {
        int left = at;
        assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 9, &res[0], &st[0], cancel_at, &left),
                         RF_CANCELLED);
        assert_int_equal(left, 0);
        assert_null(res[0].weight);
        assert_int_equal(res[0].ntensors, 0);
    }
    /* zero steps: plain sharing */
    c.steps = 0;
    assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 9, &res[0], &st[0], NULL, NULL), RF_OK);
    assert_memory_equal(res[0].weight, S, OUT * IN * sizeof(float));
    assert_true(st[0].rel_w_err == st[0].shared_rel_w_err);
    rf_gen_free(&res[0]);

    /* bad inputs: one line, nothing allocated for the caller */
    W[5] = NAN;
    assert_int_equal(rf_gen_train(S, W, OUT, IN, &c, 9, &res[0], &st[0], NULL, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "target"));
    assert_null(res[0].weight);
    float *Z = calloc(OUT * IN, sizeof *Z);
    assert_int_equal(rf_gen_train(Z, S, OUT, IN, &c, 9, &res[0], &st[0], NULL, NULL), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "all zero"));
    free(Z);

    assert_true(rf_paramgen_predicted_flops(OUT, IN, &c) > 0);
    c.steps = 20;
    assert_true(rf_gen_predicted_flops(OUT, IN, &c) > 20 * 6.0 * (double)ny * w);
    assert_true(rf_gen_predicted_bytes(OUT, IN, &c) > 4.0 * 5 * st[1].params);
    free(W), free(S);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_shift),
        cmocka_unit_test(test_loss_grad),
        cmocka_unit_test(test_train_pair),
        cmocka_unit_test(test_near_best_rank),
        cmocka_unit_test(test_deterministic_counts_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
