/* test_pareto.c -- the Pareto front (report/pareto.h) against a brute-force definition on small
 * random sets, with many ties (coordinates from a few values) and NAN points; and a hand case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "common/rf_rng.h"
#include "report/pareto.h"

/* i is on the front when no j is as good on both axes and better on one; NAN points never are. */
static int on_front_brute(const double *x, const double *y, int n, int i) {
    if (isnan(x[i]) || isnan(y[i])) return 0;
    for (int j = 0; j < n; j++) {
        if (j == i || isnan(x[j]) || isnan(y[j])) continue;
        if (x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i])) return 0;
    }
    return 1;
}

static void test_hand_case(void **state) {
    /* (1, 5) (2, 3) (2, 4) (3, 3) (4, 1) (4, 1) (5, 2) */
    const double x[] = {1, 2, 2, 3, 4, 4, 5}, y[] = {5, 3, 4, 3, 1, 1, 2};
    const unsigned char expect[] = {1, 1, 0, 0, 1, 1, 0};
    unsigned char front[7];
    rf_pareto_front(x, y, 7, front);
    for (int i = 0; i < 7; i++) assert_int_equal(front[i], expect[i]);
}

static void test_matches_brute_force_on_random_sets(void **state) {
    rf_rng rng;
    rf_rng_init(&rng, 42);
    for (int trial = 0; trial < 2000; trial++) {
        const int n = 1 + (int)rf_rng_below(&rng, 12);
        const int levels = 1 + trial % 6; /* few levels: many ties */
        double x[16], y[16];
        unsigned char front[16];
        for (int i = 0; i < n; i++) {
            x[i] = (double)rf_rng_below(&rng, (uint64_t)levels);
            y[i] = (double)rf_rng_below(&rng, (uint64_t)levels);
            if (rf_rng_uniform(&rng) < 0.1) x[i] = NAN;
            else if (rf_rng_uniform(&rng) < 0.05) y[i] = NAN;
        }
        rf_pareto_front(x, y, n, front);
        int any = 0, valid = 0;
        for (int i = 0; i < n; i++) {
            assert_int_equal(front[i], on_front_brute(x, y, n, i));
            any |= front[i];
            valid |= !isnan(x[i]) && !isnan(y[i]);
        }
        assert_int_equal(any, valid); /* a set of points always has a front */
    }
}

static void test_empty(void **state) {
    unsigned char front[1] = {7};
    rf_pareto_front(NULL, NULL, 0, front);
    assert_int_equal(front[0], 7); /* untouched */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_matches_brute_force_on_random_sets),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
