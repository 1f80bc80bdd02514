/* test_qgp.c -- the QGP generator (kernels/vitgen/qgp.c): the whole loss gradient (read-out MLP through
 * the adjoint to the angles) against central finite differences on small and non-power-of-two
 * shapes; training end to end through rf_gen_train (never worse than sharing, better on a target
 * that shares a part with S, stored tensors that reproduce G, same seed -> same bytes, the same
 * bytes for 1 and 2 threads) and cancellation. */
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cblas.h>
#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/vitgen/gen_mlp.h"
#include "kernels/vitgen/qgp.h"
#include "kernels/vitgen/vitgen.h"
#include "tests/fixtures/simd_path.h"

typedef struct {
    int64_t out, in;
} shape;

static const shape SHAPES[] = {{8, 16}, {12, 20}};

/* S ~ N(0, 1) and W = 0.8 S + 0.6 E: a block whose matrix shares a part with the shared one */
static void make_pair(uint64_t seed, int64_t N, float **S, float **W) {
    rf_rng r;
    rf_rng_init(&r, seed);
    *S = rf_malloc((size_t)N * sizeof **S);
    *W = rf_malloc((size_t)N * sizeof **W);
    for (int64_t j = 0; j < N; j++) (*S)[j] = (float)rf_rng_normal(&r);
    for (int64_t j = 0; j < N; j++) (*W)[j] = 0.8f * (*S)[j] + 0.6f * (float)rf_rng_normal(&r);
}

static int64_t qgp_nparams(int n, int L, int H) {
    const int sizes[4] = {n + 2, H, H, 1};
    rf_mlp m;
    rf_mlp_init(&m, 3, sizes);
    return m.nparams + (int64_t)L * n * 3;
}

static double secant(const shape *sh, const float *S, const float *W, int L, int H, float *params,
                     float *p) {
    const float orig = *p, h = 1e-2f;
    *p = orig + h;
    const double up = *p, lp = rf_qgp_loss_grad(S, W, sh->out, sh->in, L, H, params, NULL);
    *p = orig - h;
    const double dn = *p, lm = rf_qgp_loss_grad(S, W, sh->out, sh->in, L, H, params, NULL);
    *p = orig;
    return (lp - lm) / (up - dn);
}

static void test_loss_grad_finite_differences(void **state) {
    (void)state;
    const int L = 2, H = 8;
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        const int64_t N = sh->out * sh->in;
        const int n = rf_qgp_qubits(sh->out, sh->in);
        float *S, *W;
        make_pair(1 + s, N, &S, &W);
        const int64_t np = qgp_nparams(n, L, H), nmlp = np - (int64_t)L * n * 3;
        float *params = rf_malloc((size_t)np * sizeof *params);
        float *grad = rf_malloc((size_t)np * sizeof *grad);
        /* a point away from the start (whose zero output layer hides every other gradient) */
        const int sizes[4] = {n + 2, H, H, 1};
        rf_mlp m;
        rf_mlp_init(&m, 3, sizes);
        rf_mlp_init_params(&m, params, 10 + s, 0);
        rf_rng r;
        rf_rng_init(&r, 20 + s);
        for (int64_t k = nmlp; k < np; k++) params[k] = (float)(0.7 * rf_rng_normal(&r));
        const double loss = rf_qgp_loss_grad(S, W, sh->out, sh->in, L, H, params, grad);
        assert_true(loss > 0 && isfinite(loss));
        /* float maxima (exact): GCC 12's aarch64 vectoriser crashes on a float -> double fmax */
        float gm = 0, am = 0;
        for (int64_t k = 0; k < nmlp; k++) gm = fmaxf(gm, fabsf(grad[k]));
        for (int64_t k = nmlp; k < np; k++) am = fmaxf(am, fabsf(grad[k]));
        assert_true(am > 1e-4); /* the angles matter */
        for (int64_t k = 0; k < np; k++) {
            const double fd = secant(sh, S, W, L, H, params, params + k);
            assert_true(fabs(fd - grad[k]) <= 5e-3 * (k < nmlp ? gm : am));
        }
        free(grad), free(params), free(W), free(S);
    }
}

static void test_start_is_sharing(void **state) {
    (void)state;
    const shape *sh = &SHAPES[1];
    const int64_t N = sh->out * sh->in;
    const int n = rf_qgp_qubits(sh->out, sh->in), L = 2, H = 16;
    float *S, *W;
    make_pair(3, N, &S, &W);
    const int64_t np = qgp_nparams(n, L, H);
    float *params = rf_malloc((size_t)np * sizeof *params);
    const int sizes[4] = {n + 2, H, H, 1};
    rf_mlp m;
    rf_mlp_init(&m, 3, sizes);
    rf_mlp_init_params(&m, params, 4, 1);
    for (int64_t k = m.nparams; k < np; k++) params[k] = 0.3f;
    const double loss = rf_qgp_loss_grad(S, W, sh->out, sh->in, L, H, params, NULL);
    const double e = rf_gen_rel_err(S, W, N);
    assert_true(fabs(loss - e * e) <= 1e-6 * e * e);
    free(params), free(W), free(S);
}

typedef struct {
    int calls, stop_at;
    double last;
} progress_log;

static int on_progress(void *ctx, const rf_progress_point *at) {
    progress_log *p = ctx;
    const double f = at->fraction;
    assert_true(f > p->last && f <= 1.0 + 1e-12);
    p->last = f;
    return ++p->calls == p->stop_at;
}

static const rf_gen_tensor *find(const rf_gen_result *res, const char *name) {
    for (int i = 0; i < res->ntensors; i++)
        if (!strcmp(res->tensors[i].name, name)) return &res->tensors[i];
    fail_msg("no tensor %s", name);
    return NULL;
}

static void test_train(void **state) {
    (void)state;
    const shape *sh = &SHAPES[1];
    const int64_t N = sh->out * sh->in;
    float *S, *W;
    make_pair(5, N, &S, &W);
    rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    cfg.steps = 150;
    rf_gen_result res, res2;
    rf_gen_stats st, st2;
    progress_log pl = {0, -1, 0};
    assert_int_equal(rf_gen_train(S, W, sh->out, sh->in, &cfg, 42, &res, &st, on_progress, &pl),
                     RF_OK);
    printf("qgp [%lld, %lld]: rel_w_err %.4f shared %.4f baseline %.4f (params %lld, baseline %lld)\n",
           (long long)sh->out, (long long)sh->in, st.rel_w_err, st.shared_rel_w_err,
           st.baseline_rel_w_err, (long long)st.params, (long long)st.baseline_params);
    assert_int_equal(pl.calls, 2 * cfg.steps);
    assert_true(fabs(pl.last - 1) < 1e-12);
    assert_true(st.rel_w_err < 0.95 * st.shared_rel_w_err);
    assert_true(st.baseline_rel_w_err <= st.shared_rel_w_err);
    assert_true(fabs(st.rel_w_err - rf_gen_rel_err(res.weight, W, N)) < 1e-12);
    const int n = rf_qgp_qubits(sh->out, sh->in);
    assert_int_equal(st.qubits, n);
    assert_int_equal(st.layers, cfg.layers);
    assert_int_equal(st.steps, cfg.steps);
    assert_int_equal(st.params, qgp_nparams(n, cfg.layers, cfg.width));
    assert_true(st.baseline_params >= st.params);
    assert_int_equal(res.out_features, sh->out);

    /* the stored tensors reproduce G: pack them back into the flat layout, recompute the loss */
    assert_int_equal(res.ntensors, 8);
    const rf_gen_tensor *ang = find(&res, "angles");
    assert_int_equal(ang->ndim, 3);
    assert_true(ang->dims[0] == cfg.layers && ang->dims[1] == n && ang->dims[2] == 3);
    const rf_gen_tensor *w0 = find(&res, "readout.0.weight");
    assert_true(w0->dims[0] == cfg.width && w0->dims[1] == n + 2);
    const rf_gen_tensor *sc = find(&res, "scale");
    double ss = 0;
    for (int64_t j = 0; j < N; j++) ss += (double)S[j] * S[j];
    assert_true(fabs(sc->data[0] - sqrt(ss / N)) < 1e-6 * sc->data[0]);
    const int64_t np = st.params;
    float *params = rf_malloc((size_t)np * sizeof *params), *p = params;
    const char *order[] = {"readout.0.weight", "readout.0.bias", "readout.1.weight",
                           "readout.1.bias", "readout.2.weight", "readout.2.bias", "angles"};
    for (int i = 0; i < 7; i++) {
        const rf_gen_tensor *t = find(&res, order[i]);
        int64_t len = 1;
        for (int d = 0; d < t->ndim; d++) len *= t->dims[d];
        memcpy(p, t->data, (size_t)len * sizeof *p);
        p += len;
    }
    assert_int_equal(p - params, np);
    const double loss = rf_qgp_loss_grad(S, W, sh->out, sh->in, cfg.layers, cfg.width, params, NULL);
    assert_true(fabs(sqrt(loss) - st.rel_w_err) <= 1e-6 * st.rel_w_err);

    /* same seed -> the same bytes */
    assert_int_equal(rf_gen_train(S, W, sh->out, sh->in, &cfg, 42, &res2, &st2, NULL, NULL), RF_OK);
    assert_memory_equal(res.weight, res2.weight, (size_t)N * sizeof *res.weight);
    assert_int_equal(res.ntensors, res2.ntensors);
    for (int i = 0; i < res.ntensors; i++) {
        int64_t len = 1;
        for (int d = 0; d < res.tensors[i].ndim; d++) len *= res.tensors[i].dims[d];
        assert_memory_equal(res.tensors[i].data, res2.tensors[i].data, (size_t)len * sizeof(float));
    }
    assert_true(st.baseline_rel_w_err == st2.baseline_rel_w_err);
    rf_gen_free(&res2);
    assert_int_equal(rf_gen_train(S, W, sh->out, sh->in, &cfg, 43, &res2, &st2, NULL, NULL), RF_OK);
    assert_true(memcmp(res.weight, res2.weight, (size_t)N * sizeof *res.weight) != 0);
    rf_gen_free(&res2);
    rf_gen_free(&res);
    free(params), free(W), free(S);
}

/* with few steps the best iterate may be the start: never worse than sharing */
static void test_never_worse(void **state) {
    (void)state;
    const shape *sh = &SHAPES[0];
    const int64_t N = sh->out * sh->in;
    float *S, *W;
    make_pair(6, N, &S, &W);
    rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    cfg.lr = 1.0; /* a step size that overshoots */
    for (int steps = 0; steps <= 3; steps++) {
        cfg.steps = steps;
        rf_gen_result res;
        rf_gen_stats st;
        assert_int_equal(rf_gen_train(S, W, sh->out, sh->in, &cfg, 7, &res, &st, NULL, NULL), RF_OK);
        assert_true(st.rel_w_err <= st.shared_rel_w_err);
        assert_true(st.baseline_rel_w_err <= st.shared_rel_w_err);
        if (steps == 0) assert_memory_equal(res.weight, S, (size_t)N * sizeof *S);
        rf_gen_free(&res);
    }
    free(W), free(S);
}

static void test_cancel(void **state) {
    (void)state;
    const shape *sh = &SHAPES[1];
    float *S, *W;
    make_pair(8, sh->out * sh->in, &S, &W);
    rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    cfg.steps = 10;
    for (int stop = 1; stop <= 2 * cfg.steps; stop += 9) { /* in the generator, in the baseline */
        progress_log pl = {0, stop, 0};
        rf_gen_result res;
        rf_gen_stats st;
        assert_int_equal(rf_gen_train(S, W, sh->out, sh->in, &cfg, 9, &res, &st, on_progress, &pl),
                         RF_CANCELLED);
        assert_int_equal(pl.calls, stop);
        assert_null(res.weight);
        assert_int_equal(res.ntensors, 0);
    }
    free(W), free(S);
}

/* the trained result does not depend on the thread count (OpenMP and OpenBLAS alike): a matrix of
 * several read-out chunks with a partial last one */
static void test_threads_bit_identical(void **state) {
    (void)state;
    const int64_t out = 64, in = 130, N = out * in;
    float *S, *W;
    make_pair(11, N, &S, &W);
    rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    cfg.steps = 6;
    const int t0 = omp_get_max_threads();
    rf_gen_result res[2];
    rf_gen_stats st[2];
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        openblas_set_num_threads(t);
        assert_int_equal(rf_gen_train(S, W, out, in, &cfg, 77, &res[t - 1], &st[t - 1], NULL, NULL),
                         RF_OK);
    }
    omp_set_num_threads(t0);
    openblas_set_num_threads(t0);
    assert_true(st[0].rel_w_err < st[0].shared_rel_w_err);
    assert_memory_equal(res[0].weight, res[1].weight, (size_t)N * sizeof *res[0].weight);
    assert_int_equal(res[0].ntensors, res[1].ntensors);
    for (int i = 0; i < res[0].ntensors; i++) {
        int64_t len = 1;
        for (int d = 0; d < res[0].tensors[i].ndim; d++) len *= res[0].tensors[i].dims[d];
        assert_memory_equal(res[0].tensors[i].data, res[1].tensors[i].data, (size_t)len * sizeof(float));
    }
    /* the stats too: rf_gen_rel_err sums fixed blocks in a fixed order */
    assert_true(st[0].rel_w_err == st[1].rel_w_err);
    assert_true(st[0].baseline_rel_w_err == st[1].baseline_rel_w_err);
    assert_true(st[0].shared_rel_w_err == st[1].shared_rel_w_err);
    rf_gen_free(&res[1]);
    rf_gen_free(&res[0]);
    free(W), free(S);
}

static void test_predictions(void **state) {
    (void)state;
    rf_gen_config cfg = rf_gen_config_default(RF_GEN_QGP);
    /* RiverONE's fc1: 23 qubits, the state and its adjoint scratch dominate */
    const double b = rf_gen_predicted_bytes(4304, 1152, &cfg);
    assert_true(b > 4 * 8.0 * (1 << 23) && b < 8 * 8.0 * (1 << 23));
    const double f1 = rf_gen_predicted_flops(4304, 1152, &cfg);
    cfg.steps *= 2;
    const double f2 = rf_gen_predicted_flops(4304, 1152, &cfg);
    assert_true(f1 > 0 && f2 > 1.9 * f1 && f2 < 2.1 * f1);
}

int main(void) {
    if (rf_test_simd_skip()) return RF_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_grad_finite_differences),
        cmocka_unit_test(test_start_is_sharing),
        cmocka_unit_test(test_train),
        cmocka_unit_test(test_never_worse),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_predictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
