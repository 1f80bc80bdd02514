/* test_rf_simd.c -- the SIMD path of the process (common/rf_simd.h): the CPU's best without
 * RF_SIMD, RF_SIMD obeyed, an unknown value refused naming the variable, rf_simd_set. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"

static int best_supported(void) {
    int best = RF_SIMD_BASELINE;
    for (int p = 0; p < RF_SIMD_NPATHS; p++)
        if (rf_simd_supported(p)) best = p;
    return best;
}

static void test_default_is_the_best(void **state) {
    (void)state;
    unsetenv("RF_SIMD");
    assert_int_equal(rf_simd_init(), RF_OK);
    assert_int_equal(rf_simd_path(), best_supported());
    assert_true(rf_simd_supported(RF_SIMD_BASELINE));
#if !defined(__x86_64__)
    assert_false(rf_simd_supported(RF_SIMD_AVX2));
    assert_false(rf_simd_supported(RF_SIMD_AVX512));
#endif
    /* AVX-512 implies AVX2 in this order of paths */
    if (rf_simd_supported(RF_SIMD_AVX512)) assert_true(rf_simd_supported(RF_SIMD_AVX2));
}

static void test_env_forces_a_path(void **state) {
    (void)state;
    for (int p = 0; p < RF_SIMD_NPATHS; p++) {
        setenv("RF_SIMD", rf_simd_name(p), 1);
        if (rf_simd_supported(p)) {
            assert_int_equal(rf_simd_init(), RF_OK);
            assert_int_equal(rf_simd_path(), p);
        } else {
            assert_int_equal(rf_simd_init(), RF_ERR);
            assert_non_null(strstr(rf_last_error(), "RF_SIMD="));
        }
    }
    unsetenv("RF_SIMD");
}

static void test_unknown_value_names_the_variable(void **state) {
    (void)state;
    setenv("RF_SIMD", "sse4", 1);
    assert_int_equal(rf_simd_init(), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "RF_SIMD=sse4"));
    assert_non_null(strstr(rf_last_error(), "baseline, avx2 or avx512"));
    unsetenv("RF_SIMD");
}

static void test_set(void **state) {
    (void)state;
    for (int p = 0; p < RF_SIMD_NPATHS; p++) {
        const int rc = rf_simd_set(p);
        assert_int_equal(rc, rf_simd_supported(p) ? RF_OK : RF_ERR);
        if (rc == RF_OK) assert_int_equal(rf_simd_path(), p);
    }
    assert_string_equal(rf_simd_name(RF_SIMD_AVX2), "avx2");
    assert_string_equal(rf_simd_name(7), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_the_best),
        cmocka_unit_test(test_env_forces_a_path),
        cmocka_unit_test(test_unknown_value_names_the_variable),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
