/* aqlm_config.c -- AQLM defaults, validation of a configuration against a shape, the storage
 * cost (bits per weight), the predicted work (FLOP, part by part) for the task cost model and the
 * progress reports, and allocation. */
#include <math.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

rf_aqlm_config rf_aqlm_config_default(void) {
    return (rf_aqlm_config){
        .num_codebooks = 1,
        .nbits_per_codebook = 16,
        .in_group_size = 8,
        .out_group_size = 1,
        .beam_size = 1,
        .max_epochs = 100,
        .steps_per_epoch = 100,
        .lr = 1e-4,
        .relative_mse_tolerance = 0.01,
        .init_max_iter = 100,
        .init_max_points_per_centroid = 0,
    };
}

rf_aqlm_config rf_aqlm_config_quick(void) {
    rf_aqlm_config c = rf_aqlm_config_default();
    c.num_codebooks = 2;
    c.nbits_per_codebook = 8;
    c.in_group_size = 8;
    c.max_epochs = 10;
    c.steps_per_epoch = 20;
    c.init_max_iter = 20;
    return c;
}

int rf_aqlm_check_config(const rf_aqlm_config *c, int64_t out, int64_t in) {
    if (out < 1 || in < 1)
        return rf_fail("shape [%lld, %lld] has no weights", (long long)out, (long long)in);
    if (c->in_group_size < 1 || in % c->in_group_size != 0)
        return rf_fail_field("aqlm.in_group_size",
                             "in_group_size %d does not divide in_features %lld",
                             c->in_group_size, (long long)in);
    if (c->out_group_size < 1 || out % c->out_group_size != 0)
        return rf_fail_field("aqlm.out_group_size",
                             "out_group_size %d does not divide out_features %lld",
                             c->out_group_size, (long long)out);
    if ((int64_t)c->in_group_size * c->out_group_size > AQLM_MAX_D)
        return rf_fail_field("aqlm.in_group_size",
                             "in_group_size %d x out_group_size %d: groups of more than %d weights "
                             "are not supported",
                             c->in_group_size, c->out_group_size, AQLM_MAX_D);
    if (c->nbits_per_codebook < 1 || c->nbits_per_codebook > 16)
        return rf_fail_field("aqlm.nbits_per_codebook",
                             "nbits_per_codebook %d: must be between 1 and 16",
                             c->nbits_per_codebook);
    if (c->num_codebooks < 1)
        return rf_fail_field("aqlm.num_codebooks", "num_codebooks %d: must be at least 1",
                             c->num_codebooks);
    if (c->beam_size < 1 || c->beam_size > AQLM_MAX_BEAM)
        return rf_fail_field("aqlm.beam_size", "beam_size %d: must be between 1 and %d",
                             c->beam_size, AQLM_MAX_BEAM);
    if (c->max_epochs < 0)
        return rf_fail_field("aqlm.max_epochs", "max_epochs %d: must be >= 0", c->max_epochs);
    if (c->steps_per_epoch < 0)
        return rf_fail_field("aqlm.steps_per_epoch", "steps_per_epoch %d: must be >= 0",
                             c->steps_per_epoch);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return rf_fail_field("aqlm.lr", "lr %g: must be a positive number", c->lr);
    if (!isfinite(c->relative_mse_tolerance))
        return rf_fail_field("aqlm.relative_mse_tolerance",
                             "relative_mse_tolerance %g: must be a finite number",
                             c->relative_mse_tolerance);
    if (c->init_max_iter < 1)
        return rf_fail_field("aqlm.init_max_iter", "init_max_iter %d: must be at least 1",
                             c->init_max_iter);
    if (c->init_max_points_per_centroid < 0)
        return rf_fail_field("aqlm.init_max_points_per_centroid",
                             "init_max_points_per_centroid %d: must be >= 0 (0: all points)",
                             c->init_max_points_per_centroid);
    /* k-means starts from K distinct groups, so there must be at least K of them. */
    int64_t K = (int64_t)1 << c->nbits_per_codebook;
    int64_t groups = (out / c->out_group_size) * (in / c->in_group_size);
    if (groups < K)
        return rf_fail_field("aqlm.nbits_per_codebook",
                             "nbits_per_codebook %d: %lld centroids need at least that many groups "
                             "(out/out_group_size * in/in_group_size), the matrix has %lld",
                             c->nbits_per_codebook, (long long)K, (long long)groups);
    return RF_OK;
}

void rf_aqlm_alloc(rf_aqlm_matrix *q, int64_t out, int64_t in, const rf_aqlm_config *c) {
    q->out_features = out;
    q->in_features = in;
    q->M = c->num_codebooks;
    q->K = 1 << c->nbits_per_codebook;
    q->og = c->out_group_size;
    q->ig = c->in_group_size;
    int64_t Og = out / q->og, Ig = in / q->ig;
    q->codes = rf_calloc((size_t)(Og * Ig * q->M), sizeof *q->codes);
    q->codebooks = rf_calloc((size_t)q->M * q->K * q->og * q->ig, sizeof *q->codebooks);
    q->scales = rf_calloc((size_t)Og, sizeof *q->scales);
}

void rf_aqlm_free(rf_aqlm_matrix *q) {
    free(q->codes);
    free(q->codebooks);
    free(q->scales);
    q->codes = NULL;
    q->codebooks = NULL;
    q->scales = NULL;
}

double rf_aqlm_bits_per_weight(int64_t out, int64_t in, const rf_aqlm_config *c) {
    double n = (double)out * (double)in;
    double d = (double)c->out_group_size * c->in_group_size;
    double K = ldexp(1.0, c->nbits_per_codebook);
    return c->num_codebooks * c->nbits_per_codebook / d + c->num_codebooks * K * d * 16 / n +
           16.0 * ((double)out / c->out_group_size) / n;
}

aqlm_cost aqlm_cost_model(int64_t out, int64_t in, const rf_aqlm_config *c) {
    const double M = c->num_codebooks, K = ldexp(1.0, c->nbits_per_codebook);
    const double d = (double)c->out_group_size * c->in_group_size;
    const double npoints = (double)out * in / d;
    const double nfit = c->init_max_points_per_centroid > 0
                            ? fmin(npoints, (double)c->init_max_points_per_centroid * K)
                            : npoints;
    const double xtx = 2.0 * out * in * in; /* one [out,in] x [in,in] product */
    aqlm_cost k = {.kmeans_iter = nfit * K * d * 2, .kmeans_assign = npoints * K * d * 2};
    k.init = M * (c->init_max_iter * k.kmeans_iter + k.kmeans_assign);
    k.loss = xtx;
    k.beam_scoring = 2.0 * out * in * K * M * c->beam_size;
    k.beam_pass = k.beam_scoring + xtx;
    k.epoch = fmax(c->steps_per_epoch, 1) * k.loss + k.beam_pass;
    k.errors = 2 * xtx;
    k.total = k.init + c->max_epochs * k.epoch + k.loss + k.errors;
    return k;
}

double rf_aqlm_predicted_flops(int64_t out, int64_t in, const rf_aqlm_config *c) {
    return aqlm_cost_model(out, in, c).total;
}

rf_aqlm_work rf_aqlm_predicted_work(int64_t out, int64_t in, const rf_aqlm_config *c) {
    const aqlm_cost k = aqlm_cost_model(out, in, c);
    rf_aqlm_work w = {.kmeans = k.init, .beam = c->max_epochs * k.beam_scoring};
    w.steps = (c->max_epochs * fmax(c->steps_per_epoch, 1) + 1) * k.loss;
    w.blas = k.total - w.kmeans - w.beam - w.steps;
    return w;
}
