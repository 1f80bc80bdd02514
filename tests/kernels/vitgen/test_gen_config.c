/* test_gen_config.c -- the generators' configuration (vitgen.h): defaults that pass, kind names
 * both ways, and every refusal naming its setting by its rf_gen_config field, with the field's id
 * (rf_error_field) that the CLI turns into the flag. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>

#include "common/rf_error.h"
#include "kernels/vitgen/vitgen.h"

static void expect_refusal(rf_gen_config c, int64_t out, int64_t in, const char *field,
                           const char *msg) {
    assert_int_equal(rf_gen_check_config(&c, out, in), RF_ERR);
    assert_string_equal(rf_last_error(), msg);
    assert_string_equal(rf_error_field(), field);
}

static void test_kind_names(void **state) {
    (void)state;
    const rf_gen_kind kinds[] = {RF_GEN_NONE, RF_GEN_QGP, RF_GEN_PARAMGEN};
    for (int k = 0; k < 3; k++) {
        rf_gen_kind parsed = RF_GEN_NONE;
        assert_int_equal(rf_gen_kind_parse(rf_gen_kind_name(kinds[k]), &parsed), RF_OK);
        assert_int_equal(parsed, kinds[k]);
    }
    rf_gen_kind kind = RF_GEN_QGP;
    assert_int_equal(rf_gen_kind_parse("quantum", &kind), RF_ERR);
    assert_string_equal(rf_last_error(), "kind 'quantum': expected qgp, paramgen or none");
    assert_string_equal(rf_error_field(), "gen.kind");
    assert_int_equal(kind, RF_GEN_QGP);
}

static void test_check_config(void **state) {
    (void)state;
    const rf_gen_config q = rf_gen_config_default(RF_GEN_QGP);
    const rf_gen_config p = rf_gen_config_default(RF_GEN_PARAMGEN);
    assert_int_equal(rf_gen_check_config(&q, 64, 32), RF_OK);
    assert_int_equal(rf_gen_check_config(&p, 64, 32), RF_OK);
    rf_gen_config c = rf_gen_config_default(RF_GEN_NONE);
    c.steps = -1; /* none trains nothing: its settings do not matter */
    assert_int_equal(rf_gen_check_config(&c, 64, 32), RF_OK);
    assert_int_equal(rf_gen_check_config(&q, 0, 32), RF_ERR);
    assert_null(rf_error_field()); /* a shape, not a setting */

    c = q, c.steps = -1;
    expect_refusal(c, 64, 32, "gen.steps", "steps -1 must be >= 0");
    c = q, c.lr = NAN;
    expect_refusal(c, 64, 32, "gen.lr", "lr nan must be positive");
    c = q, c.layers = 65;
    expect_refusal(c, 64, 32, "gen.layers", "layers 65 is outside [1, 64]");
    c = p, c.width = 0;
    expect_refusal(c, 64, 32, "gen.width", "width 0 is outside [1, 4096]");
    expect_refusal(q, 1 << 16, 1 << 15, "gen.kind",
                   "kind qgp needs 31 qubits for [65536, 32768]; at most 30 fit one rank's state "
                   "vector");
    c = p, c.rank = 0;
    expect_refusal(c, 64, 32, "gen.rank", "rank 0 is outside [1, 1024]");
    c = p, c.qubits = 25;
    expect_refusal(c, 64, 32, "gen.qubits", "qubits 25 is outside [1, 24] (paramgen)");
    c = p, c.noise = 1.5;
    expect_refusal(c, 64, 32, "gen.noise", "noise 1.5 is outside [0, 1]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_check_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
