/* test_aqlm_quantize.c -- rf_aqlm_quantize end to end on small synthetic matrices: determinism
 * (same seed, same bytes), training lowers the error below the k-means init, the stats describe
 * the stored fp16 result, early stopping; progress: fractions along the cost model rising to
 * exactly 1.0, a report per Adam step and per in-group of a beam pass, the loss after every epoch
 * as the early-stop rule sees it, always from the calling thread, the same bytes with a callback
 * as without, and cancellation at any report (inside the init, at an Adam step, inside a beam
 * pass, at the end); a weight whose scale float16 cannot hold is refused. The public case's
 * quality bar is test_aqlm_case.c (it reads files through io/). */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>

#include "aqlm_fixtures.h"
#include "common/rf_half.h"
#include "tests/fixtures/simd_path.h"

enum { OUT = 64, IN = 128 };

typedef struct {
    float *W, *X;
} data;

static data make_data(uint64_t seed) {
    rf_rng r;
    rf_rng_init(&r, seed);
    data d = {fx_randn(&r, OUT * IN, 0.05), fx_xtx(&r, IN)};
    return d;
}

static rf_aqlm_config small_config(int M, int nbits, int og, int beam, int epochs, int steps) {
    rf_aqlm_config c = fx_config(M, nbits, og, 8, beam);
    c.max_epochs = epochs;
    c.steps_per_epoch = steps;
    c.lr = 1e-3;
    c.relative_mse_tolerance = 0;
    c.init_max_iter = 20;
    return c;
}

static size_t codes_bytes(const rf_aqlm_matrix *q) {
    return (size_t)(q->out_features / q->og) * (q->in_features / q->ig) * q->M * sizeof *q->codes;
}

static void assert_same_result(const rf_aqlm_matrix *a, const rf_aqlm_matrix *b) {
    assert_memory_equal(a->codes, b->codes, codes_bytes(a));
    assert_memory_equal(a->codebooks, b->codebooks,
                        (size_t)a->M * a->K * a->og * a->ig * sizeof(float));
    assert_memory_equal(a->scales, b->scales, (size_t)(OUT / a->og) * sizeof(float));
}

static void test_deterministic(void **state) {
    (void)state;
    data d = make_data(1);
    rf_aqlm_config c = small_config(2, 5, 1, 1, 2, 10);
    rf_aqlm_matrix a, b, e;
    rf_aqlm_stats sa, sb, se;
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 42, &a, &sa, NULL, NULL);
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 42, &b, &sb, NULL, NULL);
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 43, &e, &se, NULL, NULL);
    assert_same_result(&a, &b);
    assert_true(sa.rel_act_err == sb.rel_act_err);
    assert_true(memcmp(a.codes, e.codes, codes_bytes(&a)) != 0); /* the seed matters */
    rf_aqlm_free(&e), rf_aqlm_free(&b), rf_aqlm_free(&a);
    free(d.X), free(d.W);
}

/* ---- progress ---- */

/* Every report of a run; the callback answers nonzero at report number cancel_at (1-based). */
typedef struct {
    rf_progress_point at[4096];
    int n, cancel_at, foreign_thread;
    pthread_t caller;
} progress_log;

static progress_log *new_log(int cancel_at) {
    progress_log *p = rf_calloc(1, sizeof *p);
    p->cancel_at = cancel_at;
    p->caller = pthread_self();
    return p;
}

static int record(void *ctx, const rf_progress_point *at) {
    progress_log *p = ctx;
    p->foreign_thread |= !pthread_equal(pthread_self(), p->caller);
    assert_true(p->n < (int)(sizeof p->at / sizeof *p->at));
    p->at[p->n++] = *at;
    return p->n == p->cancel_at;
}

/* The reports of a finished run against the contract: from the calling thread, fractions rising
 * to exactly 1.0 along the cost model (aqlm_cost): the init's reports inside its share and the
 * last at its end; then per epoch one report per Adam step, the first with the loss after the
 * epochs before it, and one per in-group of the beam pass; then the loss after the last epoch;
 * then 1.0. L[0..epochs] gets the losses. */
static void check_progress(const progress_log *log, const rf_aqlm_config *c,
                           const rf_aqlm_stats *s, double *L) {
    const aqlm_cost k = aqlm_cost_model(OUT, IN, c);
    const int E = s->epochs, steps = c->steps_per_epoch > 0 ? c->steps_per_epoch : 1;
    const int Ig = IN / c->in_group_size;
    assert_false(log->foreign_thread);
    assert_true(log->n >= s->adam_steps + E * Ig + 2);
    for (int i = 0; i < log->n; i++) {
        assert_true(log->at[i].fraction > (i ? log->at[i - 1].fraction : 0));
        assert_true(log->at[i].fraction <= 1.0);
    }
    assert_true(log->at[log->n - 1].fraction == 1.0);
    assert_int_equal(log->at[log->n - 1].epoch, -1);

    const int ninit = log->n - (E * (steps + Ig) + 2);
    assert_true(ninit >= 2 * c->num_codebooks); /* a fit's iteration and the assignment, each */
    for (int i = 0; i < ninit; i++) assert_int_equal(log->at[i].epoch, -1);
    assert_true(fabs(log->at[ninit - 1].fraction - k.init / k.total) < 1e-12);
    int i = ninit;
    for (int e = 0; e <= E; e++) {
        const double start = k.init + e * k.epoch;
        for (int step = 0; step < (e < E ? steps : 1); step++, i++) {
            assert_true(fabs(log->at[i].fraction - (start + (step + 1) * k.loss) / k.total) < 1e-12);
            assert_int_equal(log->at[i].epoch, step == 0 ? e : -1);
            if (step == 0) L[e] = log->at[i].loss;
        }
        assert_true(isfinite(L[e]) && L[e] > 0);
        for (int g = 0; e < E && g < Ig; g++, i++) {
            const double pass = start + steps * k.loss + k.beam_pass * (g + 1) / Ig;
            assert_true(fabs(log->at[i].fraction - pass / k.total) < 1e-12);
            assert_int_equal(log->at[i].epoch, -1);
        }
    }
    assert_int_equal(i, log->n - 1);
}

/* The losses after each epoch obey the early-stop rule: an epoch that went on had a loss below
 * (1 - tolerance) x the best before it; a run that stopped before max_epochs had not. */
static void check_early_stop_rule(const double *L, int E, const rf_aqlm_config *c) {
    const double tol = c->relative_mse_tolerance;
    if (tol <= 0 || c->steps_per_epoch == 0) {
        assert_int_equal(E, c->max_epochs);
        return;
    }
    double best = INFINITY;
    for (int e = 0; e < E; e++) {
        assert_true(L[e] / best <= 1 - tol);
        best = fmin(best, L[e]);
    }
    if (E < c->max_epochs) assert_true(L[E] / best > 1 - tol);
}

/* tr(W XTX W^T) (XTX NULL: |W|^2), in double. */
static double w_xtx_w(const float *W, const float *X) {
    double t = 0;
    for (int o = 0; o < OUT; o++)
        for (int a = 0; a < IN; a++)
            for (int b = 0; b < IN; b++)
                t += (double)W[o * IN + a] * (X ? X[a * IN + b] : a == b) * W[o * IN + b];
    return t;
}

/* Training (Adam + beam) beats the k-means init by the given factor (k-means already minimizes
 * the plain MSE, so XTX = I gains little); stats match the stored fp16 values; the reports keep
 * the contract, and the last loss reported is the objective the stats measure (before fp16). */
static void check_trains(int M, int nbits, int og, int beam, int with_xtx, double factor) {
    data d = make_data(2);
    const float *X = with_xtx ? d.X : NULL;
    rf_aqlm_config c0 = small_config(M, nbits, og, beam, 0, 0);
    rf_aqlm_config c = small_config(M, nbits, og, beam, 4, 20);
    rf_aqlm_matrix q0, q;
    rf_aqlm_stats s0, s;
    progress_log *log0 = new_log(0), *log = new_log(0);
    assert_int_equal(rf_aqlm_quantize(d.W, X, OUT, IN, &c0, 5, &q0, &s0, record, log0), RF_OK);
    assert_int_equal(rf_aqlm_quantize(d.W, X, OUT, IN, &c, 5, &q, &s, record, log), RF_OK);
    assert_true(s.rel_act_err < factor * s0.rel_act_err);
    assert_int_equal(s0.epochs, 0);
    assert_int_equal(s.epochs, 4);
    assert_int_equal(s.adam_steps, 80);
    double L0[1], L[5];
    check_progress(log0, &c0, &s0, L0);
    check_progress(log, &c, &s, L);
    check_early_stop_rule(L, s.epochs, &c);
    assert_true(L[4] < L[0]);
    assert_true(L0[0] == L[0]); /* the same init */
    const double ref = w_xtx_w(d.W, X) / OUT;
    assert_true(fabs(L[4] / ref - s.rel_act_err) <= 0.05 * s.rel_act_err);
    assert_true(fabs(L0[0] / ref - s0.rel_act_err) <= 0.05 * s0.rel_act_err);
    assert_float_equal(s.bits_per_weight, rf_aqlm_bits_per_weight(OUT, IN, &c), 0);
    double act, w;
    rf_aqlm_errors(d.W, X, &q, &act, &w);
    assert_true(act == s.rel_act_err && w == s.rel_w_err);
    for (int64_t j = 0; j < (int64_t)q.M * q.K * q.og * q.ig; j++)
        assert_true(rf_round_fp16(q.codebooks[j]) == q.codebooks[j]);
    for (int64_t o = 0; o < OUT / og; o++) assert_true(rf_round_fp16(q.scales[o]) == q.scales[o]);
    rf_aqlm_free(&q), rf_aqlm_free(&q0);
    free(log), free(log0);
    free(d.X), free(d.W);
}

static void test_trains_2x5(void **state) {
    (void)state;
    check_trains(2, 5, 1, 1, 1, 0.7);
}

static void test_trains_og2_beam2(void **state) {
    (void)state;
    check_trains(1, 6, 2, 2, 1, 0.7);
}

static void test_trains_identity_xtx(void **state) {
    (void)state;
    check_trains(2, 4, 1, 1, 0, 0.99);
}

static void test_early_stop(void **state) {
    (void)state;
    data d = make_data(3);
    rf_aqlm_config c = small_config(1, 4, 1, 1, 50, 5);
    c.relative_mse_tolerance = 0.5; /* an epoch must halve the loss to go on */
    rf_aqlm_matrix q;
    rf_aqlm_stats s;
    progress_log *log = new_log(0);
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 1, &q, &s, record, log);
    assert_true(s.epochs >= 1 && s.epochs < 50);
    assert_int_equal(s.adam_steps, 5 * s.epochs); /* the stopping epoch takes no step */
    assert_true(log->at[log->n - 1].fraction == 1.0);
    double L[51];
    check_progress(log, &c, &s, L);
    check_early_stop_rule(L, s.epochs, &c);
    rf_aqlm_free(&q);
    free(log);
    free(d.X), free(d.W);
}

/* A callback changes nothing: the same codes, codebooks, scales and stats as without one. */
static void test_progress_same_result(void **state) {
    (void)state;
    data d = make_data(4);
    rf_aqlm_config cs[3] = {small_config(2, 5, 1, 1, 3, 10), small_config(1, 6, 2, 3, 2, 8),
                            small_config(2, 4, 1, 1, 20, 4)};
    cs[1].init_max_points_per_centroid = 8;
    cs[2].relative_mse_tolerance = 0.2;
    for (int i = 0; i < 3; i++) {
        rf_aqlm_matrix a, b;
        rf_aqlm_stats sa, sb;
        progress_log *log = new_log(0);
        assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &cs[i], 9, &a, &sa, NULL, NULL),
                         RF_OK);
        assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &cs[i], 9, &b, &sb, record, log),
                         RF_OK);
        assert_same_result(&a, &b);
        assert_true(sa.rel_act_err == sb.rel_act_err && sa.rel_w_err == sb.rel_w_err);
        assert_int_equal(sa.epochs, sb.epochs);
        assert_int_equal(sa.adam_steps, sb.adam_steps);
        assert_true(log->n > sb.adam_steps);
        rf_aqlm_free(&b), rf_aqlm_free(&a);
        free(log);
    }
    free(d.X), free(d.W);
}

/* A nonzero answer at report k stops the run there: RF_CANCELLED, no report after it, q freed,
 * stats untouched. k: the first report and one in the middle of the init, an Adam step, the
 * loss after an epoch, the middle of a beam pass. At the final report the result is complete:
 * the answer changes nothing. */
static void test_cancel(void **state) {
    (void)state;
    data d = make_data(2);
    rf_aqlm_config c = small_config(2, 5, 1, 1, 4, 20);
    rf_aqlm_matrix q;
    rf_aqlm_stats s;
    progress_log *full = new_log(0);
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 5, &q, &s, record, full), RF_OK);
    rf_aqlm_free(&q);
    double L[5];
    check_progress(full, &c, &s, L);
    const aqlm_cost k = aqlm_cost_model(OUT, IN, &c);
    const int Ig = IN / c.in_group_size, steps = c.steps_per_epoch;
    int ninit = 0;
    while (full->at[ninit].fraction < k.init / k.total - 1e-12) ninit++;
    ninit++; /* check_progress: the last of the init ends its share */
    const int epoch1 = ninit + steps + Ig; /* epoch 1's first report: its loss */
    const int at[] = {1, ninit / 2 + 1, ninit + 3, epoch1 + 1, epoch1 + steps + Ig / 2};
    assert_true(ninit / 2 + 1 < ninit && full->at[epoch1].epoch == 1);
    for (size_t j = 0; j < sizeof at / sizeof *at; j++) {
        progress_log *log = new_log(at[j]);
        rf_aqlm_stats st = {.epochs = -7, .rel_act_err = -7};
        q.codes = (void *)&q, q.codebooks = (void *)&q, q.scales = (void *)&q; /* stale values */
        assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 5, &q, &st, record, log),
                         RF_CANCELLED);
        assert_int_equal(log->n, at[j]); /* stopped at the report that asked */
        for (int i = 0; i < log->n; i++) /* and ran as far as the full run */
            assert_true(log->at[i].fraction == full->at[i].fraction);
        assert_null(q.codes), assert_null(q.codebooks), assert_null(q.scales);
        assert_int_equal(st.epochs, -7); /* stats untouched */
        assert_true(st.rel_act_err == -7);
        free(log);
    }
    progress_log *late = new_log(full->n);
    rf_aqlm_stats st;
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 5, &q, &st, record, late), RF_OK);
    assert_int_equal(late->n, full->n);
    assert_true(st.rel_act_err == s.rel_act_err && st.epochs == s.epochs);
    rf_aqlm_free(&q);
    free(late);
    free(full);
    free(d.X), free(d.W);
}

/* An out-group whose L2 norm float16 cannot hold (or that holds NaN) is a user error, not the
 * end of the job: RF_ERR with one line, q freed, stats untouched, no report. */
static void test_scale_beyond_fp16(void **state) {
    (void)state;
    data d = make_data(5);
    rf_aqlm_config c = small_config(1, 4, 1, 1, 1, 2);
    for (int j = 0; j < IN; j++) d.W[3 * IN + j] = 1e4f; /* norm 1e4 sqrt(128) > 65504 */
    rf_aqlm_matrix q;
    rf_aqlm_stats s = {.epochs = -7};
    progress_log *log = new_log(0);
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 1, &q, &s, record, log), RF_ERR);
    assert_non_null(strstr(rf_last_error(), "out-group 3 has L2 norm 113137"));
    assert_non_null(strstr(rf_last_error(), "beyond float16 scales (65504)"));
    assert_null(q.codes), assert_null(q.codebooks), assert_null(q.scales);
    assert_int_equal(s.epochs, -7);
    assert_int_equal(log->n, 0);
    d.W[3 * IN] = 0, d.W[5 * IN + 7] = NAN;
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 1, &q, &s, NULL, NULL), RF_ERR);
    assert_string_equal(rf_last_error(), "out-group 3 has L2 norm 112694, beyond float16 scales "
                                         "(65504)");
    for (int j = 0; j < IN; j++) d.W[3 * IN + j] = 0.01f;
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 1, &q, &s, NULL, NULL), RF_ERR);
    assert_string_equal(rf_last_error(), "out-group 5 holds NaN values");
    assert_null(q.codes);
    free(log);
    free(d.X), free(d.W);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_trains_2x5),
        cmocka_unit_test(test_trains_og2_beam2),
        cmocka_unit_test(test_trains_identity_xtx),
        cmocka_unit_test(test_early_stop),
        cmocka_unit_test(test_progress_same_result),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_scale_beyond_fp16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
