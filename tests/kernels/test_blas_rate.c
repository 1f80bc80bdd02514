/* test_blas_rate.c -- the machine's BLAS (kernels/blas_rate.h): a finite positive sgemm rate, the
 * name of the kernels OpenBLAS picked, and advice only when those kernels lack AVX2 on a CPU that
 * has it (SKYLAKEX exactly when the CPU has AVX-512), and never off x86. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <strings.h>

#include "kernels/blas_rate.h"

static void test_rate(void **state) {
    (void)state;
    const double r = rf_sgemm_rate(64, 2);
    assert_true(isfinite(r) && r > 1e6); /* any machine multiplies 64^3 faster than 1 MFLOP/s */
}

static void test_core_and_advice(void **state) {
    (void)state;
    const char *core = rf_blas_core(), *advice = rf_blas_core_advice();
    assert_non_null(core);
    assert_true(strlen(core) > 0);
    if (!advice) return;
#if !defined(__x86_64__)
    fail_msg("advice %s off x86", advice); /* the advice is about x86's model table only */
#else
    assert_true(__builtin_cpu_supports("avx2"));
    assert_string_equal(advice, __builtin_cpu_supports("avx512f") ? "SKYLAKEX" : "HASWELL");
    assert_true(!strcasecmp(core, "Prescott") || !strcasecmp(core, "Core2") ||
                !strcasecmp(core, "Penryn") || !strcasecmp(core, "Dunnington") ||
                !strcasecmp(core, "Nehalem") || !strcasecmp(core, "Sandybridge") ||
                !strcasecmp(core, "Atom"));
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rate),
                                       cmocka_unit_test(test_core_and_advice)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
