/* tasks.c -- see tasks.h. */
#include "shards/tasks.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"

/* group 2: the layer index */
static const char *LLM_LINEAR =
    "^(language_model\\.)?model\\.layers\\.([0-9]+)\\."
    "(self_attn\\.(q|k|v|o)_proj|mlp\\.(gate|up|down)_proj)\\.weight$";

static int by_cost_then_name(const void *a, const void *b) {
    const rf_task *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int compile(regex_t *re, const char *pattern, const char *what) {
    int rc = regcomp(re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        return rf_fail("%s '%s' is not a valid regular expression: %s", what, pattern, msg);
    }
    return RF_OK;
}

int rf_tasks_build(const rf_st_model *model, const char *only_regex, const rf_aqlm_config *cfg,
                   const rf_vit_share *vit, uint64_t run_seed, rf_task_list *list) {
    regex_t linear, only;
    memset(list, 0, sizeof *list);
    rf_check(compile(&linear, LLM_LINEAR, "internal pattern") == RF_OK, "%s", rf_last_error());
    if (only_regex && compile(&only, only_regex, "--only") != RF_OK) {
        regfree(&linear);
        return RF_ERR;
    }
    list->tasks = rf_calloc((size_t)model->ntensors, sizeof *list->tasks);
    int rc = RF_OK;
    for (int i = 0; i < model->ntensors && rc == RF_OK; i++) {
        const rf_st_tensor *t = &model->tensors[i];
        if (regexec(&linear, t->name, 0, NULL, 0) != 0) continue;
        rf_task *task = &list->tasks[list->n];
        size_t len = strlen(t->name) - strlen(".weight");
        if (len >= sizeof task->name) {
            rc = rf_fail("tensor name too long: %s", t->name);
            break;
        }
        memcpy(task->name, t->name, len);
        task->name[len] = '\0';
        if (only_regex && regexec(&only, task->name, 0, NULL, 0) != 0) continue;
        if (t->ndim != 2) {
            rc = rf_fail("tensor %s is %d-D; a linear weight must be 2-D", t->name, t->ndim);
            break;
        }
        task->tensor = t;
        task->out_features = t->shape[0];
        task->in_features = t->shape[1];
        if (rf_aqlm_check_config(cfg, task->out_features, task->in_features) != RF_OK) {
            rc = rf_fail_prefix("%s [%lld, %lld]: ", task->name, (long long)task->out_features,
                                (long long)task->in_features);
            break;
        }
        task->cost = rf_aqlm_predicted_flops(task->out_features, task->in_features, cfg);
        task->seed = rf_task_seed(run_seed, task->name);
        list->n++;
    }
    if (rc == RF_OK && vit && vit->npairs > 0)
        rc = rf_vit_tasks_add(model, vit, only_regex ? &only : NULL, run_seed, list);
    regfree(&linear);
    if (only_regex) regfree(&only);
    if (rc == RF_OK && list->n == 0)
        rc = only_regex ? rf_fail("--only '%s' matches no matrix of the run", only_regex)
                        : rf_fail("the model has no language-model linear matrices "
                                  "(expected names like model.layers.0.self_attn.q_proj.weight)");
    if (rc != RF_OK) {
        rf_tasks_free(list);
        return RF_ERR;
    }
    qsort(list->tasks, (size_t)list->n, sizeof *list->tasks, by_cost_then_name);
    return RF_OK;
}

void rf_tasks_free(rf_task_list *list) {
    free(list->tasks);
    memset(list, 0, sizeof *list);
}

void rf_task_shard_path(const char *out_dir, const rf_task *t, char *path, size_t len) {
    snprintf(path, len, "%s/shards/%s.h5", out_dir, t->name);
}

double rf_tasks_predict_ranks(const rf_task_list *list, int nranks, double *rank_cost) {
    for (int r = 0; r < nranks; r++) rank_cost[r] = 0;
    for (int i = 0; i < list->n; i++) { /* the first rank to become free takes the next task */
        int best = 0;
        for (int r = 1; r < nranks; r++)
            if (rank_cost[r] < rank_cost[best]) best = r;
        rank_cost[best] += list->tasks[i].cost;
    }
    double makespan = 0;
    for (int r = 0; r < nranks; r++)
        if (rank_cost[r] > makespan) makespan = rank_cost[r];
    return makespan;
}

int rf_tasks_check_layers(const rf_st_model *model, const rf_hf_config *config,
                          const char *config_path) {
    if (config->num_hidden_layers <= 0) return RF_OK;
    regex_t linear;
    rf_check(compile(&linear, LLM_LINEAR, "internal pattern") == RF_OK, "%s", rf_last_error());
    int layers = 0;
    for (int i = 0; i < model->ntensors; i++) {
        regmatch_t m[3];
        if (regexec(&linear, model->tensors[i].name, 3, m, 0) != 0) continue;
        const int layer = atoi(model->tensors[i].name + m[2].rm_so);
        if (layer + 1 > layers) layers = layer + 1;
    }
    regfree(&linear);
    if (layers == config->num_hidden_layers) return RF_OK;
    return rf_fail("%s says num_hidden_layers %d, but the model's tensors hold linear matrices of "
                   "%d decoder layers (an incomplete download, or another model's config.json?)",
                   config_path, config->num_hidden_layers, layers);
}
