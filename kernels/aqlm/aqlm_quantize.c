/* aqlm_quantize.c -- the driver: AQEngine.quantize of the reference, step by step.
 *
 *   scales[o] = |W rows of out-group o|_2 + 1e-9
 *   codes, codebooks = residual k-means of W / scales                       (aqlm_kmeans.c)
 *   for epoch < max_epochs:
 *       steps_per_epoch Adam steps on codebooks and scales against L         (aqlm_adam.c)
 *         (at step 0: stop if L / best_previous > 1 - relative_mse_tolerance)
 *       one beam-search pass over the codes in a freshly shuffled order      (aqlm_beam.c)
 *   round codebooks and scales to fp16; errors of the rounded result         (aqlm_dequant.c)
 * Everything random comes from one rf_rng seeded with `seed`, drawn in a fixed serial order.
 *
 * Progress follows the cost model (aqlm_cost): the k-means init reports from inside (every
 * iteration, every batch of the final assignment), every loss evaluation (one per Adam step)
 * reports, and every beam pass reports after each in-group. The loss an epoch's first step sees
 * (the one the early-stop rule tests) goes out with the epochs completed; after the last epoch
 * that loss is evaluated once more, so that every epoch's result is reported.
 */
#include <math.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "common/rf_log.h"
#include "kernels/aqlm/aqlm_internal.h"

/* The largest float16: the checkpoint stores scales as float16. */
#define FP16_MAX 65504.0f

int aqlm_init_scales(const float *W, int64_t out, int64_t in, int og, float *scales, float *Wn) {
    const int64_t Og = out / og;
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Og; o++) {
        double ss = 0;
        for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) ss += (double)W[j] * W[j];
        scales[o] = (float)(sqrt(ss) + 1e-9);
        for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) Wn[j] = W[j] / scales[o];
    }
    for (int64_t o = 0; o < Og; o++) {
        if (isnan(scales[o])) return rf_fail("out-group %lld holds NaN values", (long long)o);
        if (!(scales[o] <= FP16_MAX))
            return rf_fail("out-group %lld has L2 norm %g, beyond float16 scales (%g)",
                           (long long)o, (double)scales[o], (double)FP16_MAX);
    }
    return RF_OK;
}

/* One trained tensor (codebooks or scales): its values, gradient and Adam's moments. */
typedef struct {
    float *p, *g, *v, *vmax;
    int64_t n;
} adam_param;

static adam_param adam_param_new(float *p, int64_t n) {
    return (adam_param){p, rf_malloc((size_t)n * sizeof(float)),
                        rf_calloc((size_t)n, sizeof(float)), rf_calloc((size_t)n, sizeof(float)),
                        n};
}

static void adam_step(const adam_param *a, double lr, int64_t t) {
    aqlm_adam_update(a->p, a->g, a->v, a->vmax, a->n, lr, AQLM_ADAM_BETA2, AQLM_ADAM_EPS, t);
}

static void adam_param_free(adam_param *a) {
    free(a->g);
    free(a->v);
    free(a->vmax);
}

/* Progress in FLOP of the cost model, reported as a fraction of its total. */
typedef struct {
    rf_progress_fn fn;
    void *ctx;
    double total;
} run_progress;

static int report(const run_progress *r, double flop_done) {
    return rf_progress_at(r->fn, r->ctx, flop_done / r->total);
}

/* The loss after `epoch` epochs, with the fraction done. */
static int report_loss(const run_progress *r, double flop_done, int epoch, double loss) {
    const rf_progress_point at = {.fraction = flop_done / r->total, .epoch = epoch, .loss = loss};
    return r->fn ? r->fn(r->ctx, &at) : 0;
}

/* The share of the run that `flop` of work starting at `flop_done` is, for a part that reports. */
static aqlm_progress part(const run_progress *r, double flop_done, double flop) {
    return (aqlm_progress){r->fn, r->ctx, flop_done / r->total, flop / r->total};
}

/* L, its gradient into cb.g and sc.g; the loss must be finite. */
static double loss_grad(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                        const aqlm_code_index *ix, float *work, adam_param *cb, adam_param *sc,
                        int epoch, int step) {
    const double loss = aqlm_loss_grad(W, XTX, q, ix, work, cb->g, sc->g);
    rf_check(isfinite(loss), "AQLM loss is %g (epoch %d, step %d)", loss, epoch, step);
    return loss;
}

/* The in-group order of a beam pass, and a fresh codebook order inside every in-group. */
static void shuffle_orders(rf_rng *rng, int64_t Ig, int M, int64_t *g_order, int64_t *perm,
                           int *m_order) {
    for (int64_t g = 0; g < Ig; g++) g_order[g] = g;
    rf_rng_shuffle(rng, g_order, Ig);
    for (int64_t gi = 0; gi < Ig; gi++) {
        for (int m = 0; m < M; m++) perm[m] = m;
        rf_rng_shuffle(rng, perm, M);
        for (int m = 0; m < M; m++) m_order[gi * M + m] = (int)perm[m];
    }
}

int rf_aqlm_quantize(const float *W, const float *XTX, int64_t out, int64_t in,
                     const rf_aqlm_config *cfg, uint64_t seed, rf_aqlm_matrix *q,
                     rf_aqlm_stats *stats, rf_progress_fn progress, void *progress_ctx) {
    const double t0 = rf_now();
    rf_check(rf_aqlm_check_config(cfg, out, in) == RF_OK, "%s", rf_last_error());
    rf_aqlm_alloc(q, out, in, cfg);
    const int M = q->M;
    const int64_t Og = out / q->og, Ig = in / q->ig, ncb = (int64_t)M * q->K * q->og * q->ig;
    const int E = cfg->max_epochs, S = cfg->steps_per_epoch;
    const aqlm_cost cost = aqlm_cost_model(out, in, cfg);
    const run_progress pr = {progress, progress_ctx, cost.total};
    rf_rng rng;
    rf_rng_init(&rng, seed);

    float *Wn = rf_malloc((size_t)(out * in) * sizeof *Wn); /* W / scale: what k-means encodes */
    int rc = aqlm_init_scales(W, out, in, q->og, q->scales, Wn);
    if (rc == RF_OK) {
        const aqlm_progress init = part(&pr, 0, cost.init);
        rc = aqlm_init_codes(Wn, cfg, &rng, q, &init);
    }
    free(Wn);
    if (rc != RF_OK) {
        rf_aqlm_free(q);
        return rc;
    }

    adam_param cb = adam_param_new(q->codebooks, ncb), sc = adam_param_new(q->scales, Og);
    float *work = rf_malloc((size_t)(2 * out * in) * sizeof *work);
    int64_t *g_order = rf_malloc((size_t)Ig * sizeof *g_order);
    int64_t *perm = rf_malloc((size_t)M * sizeof *perm);
    int *m_order = rf_malloc((size_t)(Ig * M) * sizeof *m_order);
    aqlm_code_index ix = {0};

    double best_previous = INFINITY;
    int64_t t = 0; /* Adam's step count: one optimizer for the whole run, as in the reference */
    int epochs = 0, cancelled = 0;
    for (;;) {
        const double start = cost.init + epochs * cost.epoch; /* FLOP done when the epoch starts */
        aqlm_code_index_build(q, &ix);
        /* The loss after `epochs` epochs: the caller logs it, the early-stop rule tests it and
         * Adam's first step of the epoch takes its gradient. */
        double loss = loss_grad(W, XTX, q, &ix, work, &cb, &sc, epochs, 0);
        if ((cancelled = report_loss(&pr, start + cost.loss, epochs, loss))) break;
        if (epochs == E) break;
        if (S > 0 && cfg->relative_mse_tolerance > 0) {
            /* The reference returns here: no Adam step, no beam pass after the last one. */
            if (loss / best_previous > 1.0 - cfg->relative_mse_tolerance) break;
            best_previous = fmin(best_previous, loss);
        }
        for (int step = 0; step < S; step++) {
            if (step > 0) {
                loss_grad(W, XTX, q, &ix, work, &cb, &sc, epochs, step);
                if ((cancelled = report(&pr, start + (step + 1) * cost.loss))) break;
            }
            t++;
            adam_step(&cb, cfg->lr, t);
            adam_step(&sc, cfg->lr, t);
        }
        if (cancelled) break;
        shuffle_orders(&rng, Ig, M, g_order, perm, m_order);
        const aqlm_progress pass = part(&pr, start + cost.epoch - cost.beam_pass, cost.beam_pass);
        if ((cancelled = aqlm_beam_pass(W, XTX, q, cfg->beam_size, g_order, m_order, NULL, &pass)))
            break;
        epochs++;
    }

    aqlm_code_index_free(&ix);
    free(m_order);
    free(perm);
    free(g_order);
    free(work);
    adam_param_free(&sc);
    adam_param_free(&cb);
    if (cancelled) {
        rf_aqlm_free(q);
        return RF_CANCELLED;
    }
    for (int64_t j = 0; j < ncb; j++) q->codebooks[j] = rf_round_fp16(q->codebooks[j]);
    for (int64_t o = 0; o < Og; o++) q->scales[o] = rf_round_fp16(q->scales[o]);
    rf_aqlm_errors(W, XTX, q, &stats->rel_act_err, &stats->rel_w_err);
    rf_progress_at(progress, progress_ctx, 1.0); /* nothing is left to stop: the answer is moot */
    stats->bits_per_weight = rf_aqlm_bits_per_weight(out, in, cfg);
    stats->epochs = epochs;
    stats->adam_steps = (int)t;
    stats->seconds = rf_now() - t0;
    return RF_OK;
}
