/* task_exec.c -- see task_exec.h. */
#include "shards/task_exec.h"

#include <math.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/matrix_record.h"
#include "io/vit_record.h"
#include "shards/xtx_check.h"

/* Between the kernel and the driver's callback: the loss of each epoch goes to the rank's log. */
typedef struct {
    const rf_task *task;
    rf_progress_fn forward;
    void *forward_ctx;
} epoch_logger;

static int log_epochs(void *ctx, const rf_progress_point *at) {
    const epoch_logger *l = ctx;
    if (at->epoch == 0) rf_log("task %s: loss %.6g after the initialization", l->task->name, at->loss);
    if (at->epoch > 0) rf_log("task %s: loss %.6g after epoch %d", l->task->name, at->loss, at->epoch);
    return l->forward ? l->forward(l->forward_ctx, at) : 0;
}

/* Ends the job with the recorded reason, said of tensor t of the model: "FILE: tensor NAME:
 * reason", so that a bad weight is found in the model without a search. */
static _Noreturn void die_tensor(const rf_st_model *model, const rf_st_tensor *t) {
    rf_die_user("%s: tensor %s: %s", model->paths[t->file_index], t->name, rf_last_error());
}

/* t as float32; its error (a NaN, an integer dtype) already names the file and the tensor. */
static float *read_f32(const rf_st_model *model, const rf_st_tensor *t) {
    float *w = rf_malloc((size_t)t->numel * sizeof *w);
    if (rf_st_to_f32(model, t, w) != RF_OK) rf_die_user("%s", rf_last_error());
    return w;
}

static int run_aqlm(const rf_task_context *c, const rf_task *t, rf_aqlm_stats *stats,
                    epoch_logger *progress) {
    const int64_t out = t->out_features, in = t->in_features;
    float *w = read_f32(c->model, t->tensor), *xtx = NULL;
    if (c->xtx) {
        int64_t nsamples;
        xtx = rf_malloc((size_t)(in * in) * sizeof *xtx);
        if (rf_xtx_read(c->xtx, t->name, in, xtx, &nsamples) != RF_OK)
            rf_die_user("%s", rf_last_error());
        if (rf_xtx_check_psd(xtx, in) != RF_OK)
            rf_die_user("--xtx %s: /xtx/%s (for matrix %s) %s", c->xtx_path, t->name, t->name,
                        rf_last_error());
    }
    rf_aqlm_matrix q;
    const int rc = rf_aqlm_quantize(w, xtx, out, in, c->aqlm, t->seed, &q, stats, log_epochs, progress);
    free(w);
    free(xtx);
    if (rc == RF_CANCELLED) return rc;
    if (rc != RF_OK) die_tensor(c->model, t->tensor); /* a row norm beyond float16's range */
    /* An undefined relative error is refused, not reported as 0 (rf_aqlm_errors). */
    if (isnan(stats->rel_w_err)) {
        rf_fail("the matrix is all zero: its relative error is undefined");
        die_tensor(c->model, t->tensor);
    }
    if (isnan(stats->rel_act_err))
        rf_die_user("--xtx %s: /xtx/%s gives tr(W XTX W^T) <= 0 for matrix %s (W lies in its null "
                    "space): the relative activation error is undefined", c->xtx_path, t->name,
                    t->name);
    char path[4096];
    rf_task_shard_path(c->out_dir, t, path, sizeof path);
    const rf_matrix_record rec = {.name = t->name, .q = &q, .stats = stats, .device = "cpu"};
    if (rf_matrix_shard_write(path, c->config_json, &rec) != RF_OK)
        rf_die_user("%s", rf_last_error());
    rf_log("task %s: done in %.2f s, rel_act_err %.6g, rel_w_err %.6g, %d epochs", t->name,
           stats->seconds, stats->rel_act_err, stats->rel_w_err, stats->epochs);
    rf_aqlm_free(&q);
    return RF_OK;
}

static int run_vit(const rf_task_context *c, const rf_task *t, rf_gen_stats *stats,
                   epoch_logger *progress) {
    float *target = read_f32(c->model, t->tensor), *shared = read_f32(c->model, t->shared);
    rf_gen_result res;
    const int rc = rf_gen_train(shared, target, t->out_features, t->in_features, c->gen, t->seed,
                                &res, stats, log_epochs, progress);
    free(target);
    free(shared);
    if (rc == RF_CANCELLED) return rc;
    if (rc != RF_OK) die_tensor(c->model, t->tensor);
    char path[4096];
    rf_task_shard_path(c->out_dir, t, path, sizeof path);
    const rf_vit_record rec = {.name = t->name, .shared_from = t->shared_name,
                               .kind = c->gen->kind, .res = &res, .stats = stats, .device = "cpu"};
    if (rf_vit_shard_write(path, c->config_json, &rec) != RF_OK) rf_die_user("%s", rf_last_error());
    rf_log("task %s: %s from %s in %.2f s, rel_w_err %.6g (plain sharing %.6g, classical baseline "
           "%.6g), %lld parameters", t->name, rf_gen_kind_name(c->gen->kind), t->shared_name,
           stats->seconds, stats->rel_w_err, stats->shared_rel_w_err, stats->baseline_rel_w_err,
           (long long)stats->params);
    rf_gen_free(&res);
    return RF_OK;
}

int rf_task_execute(const rf_task_context *c, const rf_task *t, rf_task_stats *stats,
                    rf_progress_fn progress, void *progress_ctx) {
    rf_log("task %s [%lld, %lld]: start (predicted %.1f GFLOP)", t->name,
           (long long)t->out_features, (long long)t->in_features, t->cost * 1e-9);
    epoch_logger logger = {.task = t, .forward = progress, .forward_ctx = progress_ctx};
    const int rc = t->kind == RF_TASK_VIT ? run_vit(c, t, &stats->vit, &logger)
                                          : run_aqlm(c, t, &stats->aqlm, &logger);
    if (rc == RF_CANCELLED) rf_log("task %s: dropped (asked to stop)", t->name);
    return rc;
}
