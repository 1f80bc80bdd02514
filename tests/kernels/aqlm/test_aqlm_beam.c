/* test_aqlm_beam.c -- beam search over the codes, against brute force:
 *  - the reference's candidate-loss formula equals tr(dW XTX dW^T) evaluated directly for every
 *    candidate code (og 1 and 2, with and without XTX);
 *  - the fast pass and the scalar ref pass (the reference's algorithm, literally) choose the same
 *    codes, and the losses both track equal a direct evaluation (og 1 and 2, beam 1 and 3);
 *  - a pass never makes an out-group worse, and beam 1 leaves the last visited code optimal. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "aqlm_fixtures.h"
#include "tests/fixtures/simd_path.h"

typedef struct {
    int og, beam, nbits, xtx;
} variant;

static const variant VARIANTS[] = {
    {1, 1, 3, 1}, {2, 1, 3, 1}, {1, 3, 3, 1}, {2, 3, 3, 1}, {1, 1, 10, 1}, {1, 3, 2, 0},
};
enum { OUT = 40, IN = 24, IG = 4, M = 2 };

typedef struct {
    rf_aqlm_matrix q;
    float *W, *X;
    int64_t g_order[IN / IG];
    int m_order[IN / IG * M];
} problem;

static void make_problem(problem *p, const variant *v, uint64_t seed) {
    rf_rng r;
    rf_rng_init(&r, seed);
    rf_aqlm_config c = fx_config(M, v->nbits, v->og, IG, v->beam);
    fx_random_q(&r, &p->q, OUT, IN, &c);
    p->W = fx_randn(&r, OUT * IN, 0.5);
    p->X = v->xtx ? fx_xtx(&r, IN) : NULL;
    for (int g = 0; g < IN / IG; g++) p->g_order[g] = g;
    rf_rng_shuffle(&r, p->g_order, IN / IG);
    for (int g = 0; g < IN / IG; g++) {
        int64_t perm[M] = {0, 1};
        rf_rng_shuffle(&r, perm, M);
        for (int m = 0; m < M; m++) p->m_order[g * M + m] = (int)perm[m];
    }
}

static void free_problem(problem *p) {
    free(p->X);
    free(p->W);
    rf_aqlm_free(&p->q);
}

static void test_candidate_losses_brute_force(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof VARIANTS / sizeof *VARIANTS; s++) {
        problem p;
        make_problem(&p, &VARIANTS[s], 10 + s);
        const int64_t Og = OUT / p.q.og, n = IN / IG * M;
        double *losses = rf_malloc(p.q.K * sizeof *losses);
        uint16_t codes[IN / IG * M];
        for (int64_t o = 0; o < Og; o += 3)
            for (int64_t g = 0; g < IN / IG; g++)
                for (int m = 0; m < M; m++) {
                    memcpy(codes, p.q.codes + o * n, sizeof codes);
                    double base = aqlm_group_loss_ref(p.W, p.X, &p.q, o, codes);
                    aqlm_beam_candidate_losses_ref(p.W, p.X, &p.q, o, codes, base, g, m, losses);
                    for (int k = 0; k < p.q.K; k++) {
                        codes[g * M + m] = (uint16_t)k;
                        double direct = aqlm_group_loss_ref(p.W, p.X, &p.q, o, codes);
                        assert_true(fabs(losses[k] - direct) <= 1e-9 * (base + direct));
                    }
                }
        free(losses);
        free_problem(&p);
    }
}

static void test_fast_pass_matches_ref_and_brute_force(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof VARIANTS / sizeof *VARIANTS; s++) {
        const variant *v = &VARIANTS[s];
        problem fast, ref;
        make_problem(&fast, v, 30 + s);
        make_problem(&ref, v, 30 + s);
        const int64_t Og = OUT / fast.q.og, n = IN / IG * M;
        double before[OUT], lf[OUT], lr[OUT];
        for (int64_t o = 0; o < Og; o++)
            before[o] = aqlm_group_loss_ref(fast.W, fast.X, &fast.q, o, fast.q.codes + o * n);
        assert_int_equal(
            aqlm_beam_pass(fast.W, fast.X, &fast.q, v->beam, fast.g_order, fast.m_order, lf, NULL),
            RF_OK);
        aqlm_beam_pass_ref(ref.W, ref.X, &ref.q, v->beam, ref.g_order, ref.m_order, lr);
        int same = 0;
        for (int64_t o = 0; o < Og; o++) {
            double df = aqlm_group_loss_ref(fast.W, fast.X, &fast.q, o, fast.q.codes + o * n);
            double dr = aqlm_group_loss_ref(ref.W, ref.X, &ref.q, o, ref.q.codes + o * n);
            assert_true(fabs(lr[o] - dr) <= 1e-9 * before[o]); /* the ref's tracked loss */
            assert_true(fabs(lf[o] - df) <= 1e-4 * before[o]); /* float deltas, float64 sum */
            assert_true(df <= before[o] * (1 + 1e-6));         /* never worse */
            int eq = memcmp(fast.q.codes + o * n, ref.q.codes + o * n, n * sizeof(uint16_t)) == 0;
            same += eq;
            if (!eq) assert_true(fabs(df - dr) <= 1e-4 * before[o]); /* a near tie, no more */
        }
        assert_true(same >= Og - 1);
        free_problem(&ref);
        free_problem(&fast);
    }
}

static void test_beam1_last_step_optimal(void **state) {
    (void)state;
    problem p;
    make_problem(&p, &VARIANTS[1], 77); /* og 2 */
    assert_int_equal(aqlm_beam_pass(p.W, p.X, &p.q, 1, p.g_order, p.m_order, NULL, NULL), RF_OK);
    const int64_t Og = OUT / p.q.og, n = IN / IG * M, g = p.g_order[IN / IG - 1];
    const int m = p.m_order[(IN / IG - 1) * M + M - 1];
    for (int64_t o = 0; o < Og; o++) {
        uint16_t codes[IN / IG * M];
        memcpy(codes, p.q.codes + o * n, sizeof codes);
        double chosen = aqlm_group_loss_ref(p.W, p.X, &p.q, o, codes);
        for (int k = 0; k < p.q.K; k++) {
            codes[g * M + m] = (uint16_t)k;
            assert_true(chosen <= aqlm_group_loss_ref(p.W, p.X, &p.q, o, codes) * (1 + 1e-6));
        }
    }
    free_problem(&p);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_losses_brute_force),
        cmocka_unit_test(test_fast_pass_matches_ref_and_brute_force),
        cmocka_unit_test(test_beam1_last_step_optimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
