/* vitgen.c -- the public API of vitgen.h on top of the generators: configuration, dispatch to
 * qgp.c and paramgen.c, and plain sharing (none). */
#include "kernels/vitgen/vitgen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "kernels/vitgen/paramgen.h"
#include "kernels/vitgen/qgp.h"

static const char *const KIND_NAMES[] = {"none", "qgp", "paramgen"};

rf_gen_config rf_gen_config_default(rf_gen_kind kind) {
    rf_gen_config c = {.kind = kind, .steps = 200, .lr = 1e-2, .rank = 8, .qubits = 12};
    c.layers = kind == RF_GEN_PARAMGEN ? 3 : 2;
    c.width = kind == RF_GEN_PARAMGEN ? 256 : 16;
    return c;
}

int rf_gen_kind_parse(const char *name, rf_gen_kind *kind) {
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, KIND_NAMES[k])) {
            *kind = (rf_gen_kind)k;
            return RF_OK;
        }
    return rf_fail_field("gen.kind", "kind '%s': expected qgp, paramgen or none", name);
}

const char *rf_gen_kind_name(rf_gen_kind kind) { return KIND_NAMES[kind]; }

int rf_gen_check_config(const rf_gen_config *c, int64_t out, int64_t in) {
    if (out < 1 || in < 1)
        return rf_fail("the matrix [%lld, %lld] is empty", (long long)out, (long long)in);
    if (c->kind == RF_GEN_NONE) return RF_OK;
    if (c->steps < 0) return rf_fail_field("gen.steps", "steps %d must be >= 0", c->steps);
    if (!(c->lr > 0) || !isfinite(c->lr))
        return rf_fail_field("gen.lr", "lr %g must be positive", c->lr);
    if (c->layers < 1 || c->layers > 64)
        return rf_fail_field("gen.layers", "layers %d is outside [1, 64]", c->layers);
    if (c->width < 1 || c->width > 4096)
        return rf_fail_field("gen.width", "width %d is outside [1, 4096]", c->width);
    if (c->kind == RF_GEN_QGP && rf_qgp_qubits(out, in) > 30)
        return rf_fail_field("gen.kind",
                             "kind qgp needs %d qubits for [%lld, %lld]; at most 30 fit one "
                             "rank's state vector",
                             rf_qgp_qubits(out, in), (long long)out, (long long)in);
    if (c->kind == RF_GEN_PARAMGEN) {
        if (c->rank < 1 || c->rank > 1024)
            return rf_fail_field("gen.rank", "rank %d is outside [1, 1024]", c->rank);
        if (c->qubits < 1 || c->qubits > 24)
            return rf_fail_field("gen.qubits", "qubits %d is outside [1, 24] (paramgen)",
                                 c->qubits);
        if (!(c->noise >= 0 && c->noise <= 1))
            return rf_fail_field("gen.noise", "noise %g is outside [0, 1]", c->noise);
    }
    return RF_OK;
}

double rf_gen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg) {
    switch (cfg->kind) {
    case RF_GEN_QGP: return rf_qgp_predicted_flops(out, in, cfg);
    case RF_GEN_PARAMGEN: return rf_paramgen_predicted_flops(out, in, cfg);
    default: return 3.0 * (double)out * (double)in; /* one error measure */
    }
}

double rf_gen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg) {
    switch (cfg->kind) {
    case RF_GEN_QGP: return rf_qgp_predicted_bytes(out, in, cfg);
    case RF_GEN_PARAMGEN: return rf_paramgen_predicted_bytes(out, in, cfg);
    default: return 4.0 * (double)out * (double)in;
    }
}

int rf_gen_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx) {
    double start = rf_now();
    int64_t n = out * in;
    memset(res, 0, sizeof *res);
    memset(stats, 0, sizeof *stats);
    int rc = RF_OK;
    if (cfg->kind == RF_GEN_QGP)
        rc = rf_qgp_train(shared, target, out, in, cfg, seed, res, stats, progress, progress_ctx);
    else if (cfg->kind == RF_GEN_PARAMGEN)
        rc = rf_paramgen_train(shared, target, out, in, cfg, seed, res, stats, progress,
                               progress_ctx);
    if (rc != RF_OK) {
        rf_gen_free(res);
        return rc;
    }
    res->out_features = out;
    res->in_features = in;
    stats->shared_rel_w_err = rf_gen_rel_err(shared, target, n);
    if (cfg->kind == RF_GEN_NONE) {
        res->weight = rf_malloc((size_t)n * sizeof *res->weight);
        memcpy(res->weight, shared, (size_t)n * sizeof *res->weight);
        stats->rel_w_err = stats->baseline_rel_w_err = stats->shared_rel_w_err;
    }
    stats->seconds = rf_now() - start;
    return RF_OK;
}
