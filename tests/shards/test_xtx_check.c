/* test_xtx_check.c -- which XTX pass as calibration statistics (shards/xtx_check.h): real X^T X / N
 * in float32 pass, also singular ones (fewer tokens than in_features, a dominant mean) and a
 * negative eigenvalue within the 1% damping; -I, a negative diagonal entry, an all-zero diagonal
 * and a negative eigenvalue beyond the damping are refused with a line saying what fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "shards/xtx_check.h"

/* XTX = X^T X / N in float32 for N tokens x [N, n] drawn around a mean of `mean` in every input. */
static float *xtx_of_tokens(int64_t n, int64_t N, double mean, uint64_t seed) {
    rf_rng r;
    rf_rng_init(&r, seed);
    double *x = malloc(sizeof *x * N * n);
    for (int64_t j = 0; j < N * n; j++) x[j] = mean + rf_rng_normal(&r);
    float *xtx = malloc(sizeof *xtx * n * n);
    for (int64_t a = 0; a < n; a++)
        for (int64_t b = 0; b < n; b++) {
            double s = 0;
            for (int64_t t = 0; t < N; t++) s += x[t * n + a] * x[t * n + b];
            xtx[a * n + b] = (float)(s / N);
        }
    free(x);
    return xtx;
}

static void test_real_statistics_pass(void **state) {
    (void)state;
    float *full = xtx_of_tokens(64, 512, 0, 1);
    assert_int_equal(rf_xtx_check_psd(full, 64), RF_OK);
    free(full);
    float *few = xtx_of_tokens(384, 16, 0, 2); /* rank 16 of 384 */
    assert_int_equal(rf_xtx_check_psd(few, 384), RF_OK);
    free(few);
    float *mean = xtx_of_tokens(384, 8, 30, 3); /* a dominant direction: large rounding */
    assert_int_equal(rf_xtx_check_psd(mean, 384), RF_OK);
    free(mean);
}

static void test_bad_statistics_refused(void **state) {
    (void)state;
    enum { n = 8 };
    float x[n * n];
    memset(x, 0, sizeof x);
    for (int i = 0; i < n; i++) x[i * n + i] = -1; /* XTX = -I */
    assert_int_equal(rf_xtx_check_psd(x, n), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "diagonal entry [0, 0] is -1"));
    for (int i = 0; i < n; i++) x[i * n + i] = 1;
    x[3 * n + 3] = -0.5f;
    assert_int_equal(rf_xtx_check_psd(x, n), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "diagonal entry [3, 3] is -0.5"));
    memset(x, 0, sizeof x);
    assert_int_equal(rf_xtx_check_psd(x, n), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "the diagonal is all zero"));
}

/* [[1, c], [c, 1]] has eigenvalues 1 + c and 1 - c: -0.004 is within 1% of the mean diagonal,
 * -0.02 and -1 are not. */
static void test_negative_eigenvalues(void **state) {
    (void)state;
    float a[4] = {1, 1.004f, 1.004f, 1};
    assert_int_equal(rf_xtx_check_psd(a, 2), RF_OK);
    a[1] = a[2] = 1.02f;
    assert_int_equal(rf_xtx_check_psd(a, 2), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "not positive semi-definite: the Cholesky "
                                            "factorization of XTX + 0.01 I (1% of the mean "
                                            "diagonal) fails at column 1"));
    a[1] = a[2] = 2;
    assert_int_equal(rf_xtx_check_psd(a, 2), RF_ERR);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_real_statistics_pass),
                                       cmocka_unit_test(test_bad_statistics_refused),
                                       cmocka_unit_test(test_negative_eigenvalues)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
