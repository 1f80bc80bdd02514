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
 */
#include <math.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "common/rf_log.h"
#include "kernels/aqlm/aqlm_internal.h"

/* Adam's settings in the reference's AQEngine.quantize. */
#define ADAM_BETA2 0.95
#define ADAM_EPS 1e-8

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
    aqlm_adam_update(a->p, a->g, a->v, a->vmax, a->n, lr, ADAM_BETA2, ADAM_EPS, t);
}

static void adam_param_free(adam_param *a) {
    free(a->g);
    free(a->v);
    free(a->vmax);
}

int rf_aqlm_quantize(const float *W, const float *XTX, int64_t out, int64_t in,
                      const rf_aqlm_config *cfg, uint64_t seed, rf_aqlm_matrix *q,
                      rf_aqlm_stats *stats, rf_progress_fn progress, void *progress_ctx) {
    const double t0 = rf_now();
    rf_check(rf_aqlm_check_config(cfg, out, in) == RF_OK, "%s", rf_last_error());
    rf_aqlm_alloc(q, out, in, cfg);
    const int og = q->og, M = q->M;
    const int64_t Og = out / og, Ig = in / q->ig, ncb = (int64_t)M * q->K * og * q->ig;
    const int E = cfg->max_epochs;
    rf_rng rng;
    rf_rng_init(&rng, seed);

    float *Wn = rf_malloc((size_t)(out * in) * sizeof *Wn); /* W / scale: what k-means encodes */
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Og; o++) {
        double ss = 0;
        for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) ss += (double)W[j] * W[j];
        q->scales[o] = (float)(sqrt(ss) + 1e-9);
        for (int64_t j = o * og * in; j < (o + 1) * og * in; j++) Wn[j] = W[j] / q->scales[o];
    }
    for (int64_t o = 0; o < Og; o++) /* the checkpoint stores scales as float16 */
        if (!(q->scales[o] <= 65504.0f))
            rf_die_user("out-group %lld has L2 norm %g, beyond float16 scales (65504)",
                        (long long)o, (double)q->scales[o]);
    aqlm_init_codes(Wn, cfg, &rng, q);
    free(Wn);
    int cancelled = rf_progress_at(progress, progress_ctx, 1.0 / (1 + E));

    adam_param cb = adam_param_new(q->codebooks, ncb), sc = adam_param_new(q->scales, Og);
    float *work = rf_malloc((size_t)(2 * out * in) * sizeof *work);
    int64_t *g_order = rf_malloc((size_t)Ig * sizeof *g_order);
    int64_t *perm = rf_malloc((size_t)M * sizeof *perm);
    int *m_order = rf_malloc((size_t)(Ig * M) * sizeof *m_order);
    aqlm_code_index ix = {0};

    double best_previous = INFINITY;
    int64_t t = 0; /* Adam's step count: one optimizer for the whole run, as in the reference */
    int epochs = 0, stopped = 0;
    for (int epoch = 0; epoch < E && !cancelled; epoch++) {
        aqlm_code_index_build(q, &ix);
        for (int step = 0; step < cfg->steps_per_epoch; step++) {
            double loss = aqlm_loss_grad(W, XTX, q, &ix, work, cb.g, sc.g);
            rf_check(isfinite(loss), "AQLM loss is %g (epoch %d, step %d)", loss, epoch, step);
            if (step == 0 && cfg->relative_mse_tolerance > 0) {
                /* The reference returns here: no Adam step, no beam pass after the last one. */
                if (loss / best_previous > 1.0 - cfg->relative_mse_tolerance) {
                    stopped = 1;
                    break;
                }
                best_previous = fmin(best_previous, loss);
            }
            t++;
            adam_step(&cb, cfg->lr, t);
            adam_step(&sc, cfg->lr, t);
        }
        if (stopped) break;
        for (int64_t g = 0; g < Ig; g++) g_order[g] = g;
        rf_rng_shuffle(&rng, g_order, Ig);
        for (int64_t gi = 0; gi < Ig; gi++) { /* a fresh codebook order inside every in-group */
            for (int m = 0; m < M; m++) perm[m] = m;
            rf_rng_shuffle(&rng, perm, M);
            for (int m = 0; m < M; m++) m_order[gi * M + m] = (int)perm[m];
        }
        aqlm_beam_pass(W, XTX, q, cfg->beam_size, g_order, m_order, NULL);
        epochs++;
        cancelled = rf_progress_at(progress, progress_ctx, (1.0 + epochs) / (1 + E));
    }
    if (stopped) cancelled = rf_progress_at(progress, progress_ctx, 1.0);

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
    stats->bits_per_weight = rf_aqlm_bits_per_weight(out, in, cfg);
    stats->epochs = epochs;
    stats->adam_steps = (int)t;
    stats->seconds = rf_now() - t0;
    return RF_OK;
}
