/* test_aqlm_quantize.c -- rf_aqlm_quantize end to end on small synthetic matrices: determinism
 * (same seed, same bytes), training lowers the error below the k-means init, the stats describe
 * the stored fp16 result, progress reports, early stopping; and, when the public case is present
 * (RF_CASES_DIR/aqlm-256x512), the quality bar against the reference AQLM: rel_act_err at most
 * 1.05x the reference's for its two configurations. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "aqlm_fixtures.h"
#include "common/rf_half.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"

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

static void test_deterministic(void **state) {
    (void)state;
    data d = make_data(1);
    rf_aqlm_config c = small_config(2, 5, 1, 1, 2, 10);
    rf_aqlm_matrix a, b, e;
    rf_aqlm_stats sa, sb, se;
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 42, &a, &sa, NULL, NULL);
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 42, &b, &sb, NULL, NULL);
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 43, &e, &se, NULL, NULL);
    assert_memory_equal(a.codes, b.codes, codes_bytes(&a));
    assert_memory_equal(a.codebooks, b.codebooks, (size_t)a.M * a.K * a.og * a.ig * sizeof(float));
    assert_memory_equal(a.scales, b.scales, OUT / a.og * sizeof(float));
    assert_true(sa.rel_act_err == sb.rel_act_err);
    assert_true(memcmp(a.codes, e.codes, codes_bytes(&a)) != 0); /* the seed matters */
    rf_aqlm_free(&e), rf_aqlm_free(&b), rf_aqlm_free(&a);
    free(d.X), free(d.W);
}

typedef struct {
    int calls;
    double last;
    int monotone;
} progress_log;

static int on_progress(void *ctx, const rf_progress_point *at) {
    progress_log *p = ctx;
    const double f = at->fraction;
    p->monotone &= f > p->last && f <= 1.0;
    p->last = f;
    p->calls++;
    return 0;
}

/* Cancels at the second report (after the first epoch). */
static int cancel_second(void *ctx, const rf_progress_point *at) { return ++*(int *)ctx == 2; }

static void test_cancel(void **state) {
    (void)state;
    data d = make_data(2);
    rf_aqlm_config c = small_config(2, 5, 1, 1, 4, 20);
    rf_aqlm_matrix q;
    rf_aqlm_stats s = {.epochs = -7};
    int calls = 0;
    assert_int_equal(rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 5, &q, &s, cancel_second, &calls),
                     RF_CANCELLED);
    assert_int_equal(calls, 2);
    assert_int_equal(s.epochs, -7); /* stats untouched, q already freed */
    free(d.X), free(d.W);
}

/* Training (Adam + beam) beats the k-means init by the given factor (k-means already minimizes
 * the plain MSE, so XTX = I gains little); stats match the stored fp16 values. */
static void check_trains(int M, int nbits, int og, int beam, int with_xtx, double factor) {
    data d = make_data(2);
    const float *X = with_xtx ? d.X : NULL;
    rf_aqlm_config c0 = small_config(M, nbits, og, beam, 0, 0);
    rf_aqlm_config c = small_config(M, nbits, og, beam, 4, 20);
    rf_aqlm_matrix q0, q;
    rf_aqlm_stats s0, s;
    progress_log log = {0, 0, 1};
    rf_aqlm_quantize(d.W, X, OUT, IN, &c0, 5, &q0, &s0, NULL, NULL);
    rf_aqlm_quantize(d.W, X, OUT, IN, &c, 5, &q, &s, on_progress, &log);
    assert_true(s.rel_act_err < factor * s0.rel_act_err);
    assert_int_equal(s0.epochs, 0);
    assert_int_equal(s.epochs, 4);
    assert_int_equal(s.adam_steps, 80);
    assert_int_equal(log.calls, 5); /* after init, after each of 4 epochs */
    assert_true(log.monotone && log.last == 1.0);
    assert_float_equal(s.bits_per_weight, rf_aqlm_bits_per_weight(OUT, IN, &c), 0);
    double act, w;
    rf_aqlm_errors(d.W, X, &q, &act, &w);
    assert_true(act == s.rel_act_err && w == s.rel_w_err);
    for (int64_t j = 0; j < (int64_t)q.M * q.K * q.og * q.ig; j++)
        assert_true(rf_round_fp16(q.codebooks[j]) == q.codebooks[j]);
    for (int64_t o = 0; o < OUT / og; o++) assert_true(rf_round_fp16(q.scales[o]) == q.scales[o]);
    rf_aqlm_free(&q), rf_aqlm_free(&q0);
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
    progress_log log = {0, 0, 1};
    rf_aqlm_quantize(d.W, d.X, OUT, IN, &c, 1, &q, &s, on_progress, &log);
    assert_true(s.epochs >= 1 && s.epochs < 50);
    assert_int_equal(s.adam_steps, 5 * s.epochs); /* the stopping epoch takes no step */
    assert_true(log.last == 1.0);
    rf_aqlm_free(&q);
    free(d.X), free(d.W);
}

/* ---- the public case ---- */

static int load_case(const char *dir, float **W, float **X) {
    char path[4096];
    rf_st_model m;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (access(path, R_OK) != 0) return 0;
    assert_int_equal(rf_st_open(&m, path), RF_OK);
    const rf_st_tensor *t = rf_st_find(&m, "model.layers.0.mlp.down_proj.weight");
    assert_non_null(t);
    assert_true(t->shape[0] == 256 && t->shape[1] == 512);
    *W = rf_malloc(256 * 512 * sizeof **W);
    assert_int_equal(rf_st_to_f32(&m, t, *W), RF_OK);
    rf_st_close(&m);
    rf_xtx_file *f;
    snprintf(path, sizeof path, "%s/xtx.h5", dir);
    assert_int_equal(rf_xtx_open(&f, path), RF_OK);
    *X = rf_malloc(512 * 512 * sizeof **X);
    int64_t ns;
    assert_int_equal(rf_xtx_read(f, "model.layers.0.mlp.down_proj", 512, *X, &ns), RF_OK);
    rf_xtx_close(f);
    return 1;
}

static void test_public_case_quality(void **state) {
    (void)state;
    float *W, *X;
    if (!load_case(RF_CASES_DIR "/aqlm-256x512", &W, &X)) skip();
    /* reference.json: Vahe1994/AQLM, 20 epochs x 100 steps, tol 0.01, init 100, lr 1e-4 */
    const struct {
        int M, nbits;
        double ref;
    } runs[] = {{2, 8, 0.02330026827444635}, {1, 10, 0.04686273223095412}};
    for (int i = 0; i < 2; i++) {
        rf_aqlm_config c = fx_config(runs[i].M, runs[i].nbits, 1, 8, 1);
        c.max_epochs = 20;
        c.steps_per_epoch = 100;
        rf_aqlm_matrix q;
        rf_aqlm_stats s;
        rf_aqlm_quantize(W, X, 256, 512, &c, 0, &q, &s, NULL, NULL);
        print_message(
            "%dx%d: rel_act_err %.5f (reference %.5f), rel_w_err %.4f, %d epochs, %.2f s\n",
            runs[i].M, runs[i].nbits, s.rel_act_err, runs[i].ref, s.rel_w_err, s.epochs, s.seconds);
        assert_true(s.rel_act_err <= 1.05 * runs[i].ref);
        rf_aqlm_free(&q);
    }
    free(X), free(W);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),    cmocka_unit_test(test_trains_2x5),
        cmocka_unit_test(test_trains_og2_beam2), cmocka_unit_test(test_trains_identity_xtx),
        cmocka_unit_test(test_early_stop),       cmocka_unit_test(test_public_case_quality),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
