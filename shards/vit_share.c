/* vit_share.c -- see vit_share.h. */
#include "shards/vit_share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "shards/tasks.h"

/* group 1: everything up to "layers.", group 2: the block index, group 3: the module */
static const char *VIT_LINEAR =
    "^(.*encoder\\.layers\\.)([0-9]+)\\."
    "(self_attn\\.(q|k|v|out)_proj|attn\\.(qkv|proj)|mlp\\.fc[12])\\.weight$";

int rf_vit_share_parse(const char *spec, rf_vit_share *vs) {
    vs->npairs = 0;
    const char *p = spec;
    while (*p) {
        int a, b, used = 0;
        if (sscanf(p, "%d:%d%n", &a, &b, &used) != 2 || a < 0 || b < 0 || (p[used] && p[used] != ','))
            return rf_fail("--vit-share '%s': expected A:B[,C:D...] with block indices, e.g. 23:24", spec);
        if (a == b) return rf_fail("--vit-share '%s': block %d cannot share with itself", spec, a);
        if (vs->npairs == RF_VIT_MAX_PAIRS)
            return rf_fail("--vit-share '%s': more than %d pairs", spec, RF_VIT_MAX_PAIRS);
        for (int i = 0; i < vs->npairs; i++) {
            if (vs->to[i] == b)
                return rf_fail("--vit-share '%s': block %d is shared twice", spec, b);
            if (vs->to[i] == a || vs->from[i] == b)
                return rf_fail("--vit-share '%s': block %d is both shared and a source; share every "
                               "block of a group with its first block (e.g. 23:24,23:25)", spec,
                               vs->to[i] == a ? a : b);
        }
        vs->from[vs->npairs] = a;
        vs->to[vs->npairs++] = b;
        p += used + (p[used] == ',');
    }
    if (vs->npairs == 0) return rf_fail("--vit-share '%s': no block pair given", spec);
    return RF_OK;
}

void rf_vit_share_format(const rf_vit_share *vs, char *buf, size_t len) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < vs->npairs && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%d:%d", i ? "," : "", vs->from[i], vs->to[i]);
}

static int share_source(const rf_vit_share *vs, int block) {
    for (int i = 0; i < vs->npairs; i++)
        if (vs->to[i] == block) return vs->from[i];
    return -1;
}

/* The task for target tensor t (block `block` of the regex match m) that reuses block `from`. */
static int add_task(const rf_st_model *model, const rf_vit_share *vs, const rf_st_tensor *t,
                    const regmatch_t *m, int from, uint64_t run_seed, rf_task *task) {
    char shared[512];
    int prefix = (int)m[1].rm_eo;
    snprintf(shared, sizeof shared, "%.*s%d%s", prefix, t->name, from, t->name + m[2].rm_eo);
    const rf_st_tensor *s = rf_st_find(model, shared);
    if (!s) return rf_fail("--vit-share %d:%.*s: the model has no %s (the tensor %s would reuse)",
                           from, (int)(m[2].rm_eo - m[2].rm_so), t->name + m[2].rm_so, shared, t->name);
    if (t->ndim != 2 || s->ndim != 2 || t->shape[0] != s->shape[0] || t->shape[1] != s->shape[1])
        return rf_fail("--vit-share: %s and %s differ in shape; only equal shapes can be shared",
                       t->name, shared);
    size_t len = strlen(t->name) - strlen(".weight");
    if (len >= sizeof task->name) return rf_fail("tensor name too long: %s", t->name);
    *task = (rf_task){.kind = RF_TASK_VIT, .tensor = t, .shared = s,
                      .out_features = t->shape[0], .in_features = t->shape[1]};
    memcpy(task->name, t->name, len);
    snprintf(task->shared_name, sizeof task->shared_name, "%.*s", (int)(strlen(shared) - strlen(".weight")), shared);
    if (rf_gen_check_config(&vs->gen, task->out_features, task->in_features) != RF_OK)
        return rf_fail_prefix("%s [%lld, %lld]: ", task->name, (long long)task->out_features,
                              (long long)task->in_features);
    task->cost = rf_gen_predicted_flops(task->out_features, task->in_features, &vs->gen);
    task->seed = rf_task_seed(run_seed, task->name);
    return RF_OK;
}

int rf_vit_tasks_add(const rf_st_model *model, const rf_vit_share *vs, const regex_t *only,
                     uint64_t run_seed, rf_task_list *list) {
    regex_t re;
    rf_check(regcomp(&re, VIT_LINEAR, REG_EXTENDED) == 0, "bad internal pattern");
    int max_block = -1, rc = RF_OK;
    int *targets = rf_calloc((size_t)vs->npairs, sizeof *targets); /* matrices found per pair */
    for (int i = 0; i < model->ntensors && rc == RF_OK; i++) {
        const rf_st_tensor *t = &model->tensors[i];
        regmatch_t m[4];
        if (regexec(&re, t->name, 4, m, 0) != 0) continue;
        int block = atoi(t->name + m[2].rm_so);
        if (block > max_block) max_block = block;
        int from = share_source(vs, block);
        if (from < 0) continue;
        for (int k = 0; k < vs->npairs; k++) targets[k] += vs->to[k] == block;
        rf_task *task = &list->tasks[list->n];
        rc = add_task(model, vs, t, m, from, run_seed, task);
        if (rc == RF_OK && (!only || regexec(only, task->name, 0, NULL, 0) == 0)) list->n++;
    }
    for (int k = 0; k < vs->npairs && rc == RF_OK; k++) {
        if (max_block < 0)
            rc = rf_fail("--vit-share: the model has no vision-tower matrices (expected names like "
                         "vision_model.encoder.layers.0.self_attn.q_proj.weight or "
                         "...layers.0.attn.qkv.weight)");
        else if (targets[k] == 0)
            rc = rf_fail("--vit-share %d:%d: the vision tower has no block %d (blocks 0..%d)",
                         vs->from[k], vs->to[k], vs->to[k], max_block);
    }
    free(targets);
    regfree(&re);
    return rc;
}
