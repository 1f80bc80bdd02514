/* tasks.c -- see tasks.h. */
#include "shards/tasks.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "io/atomic_file.h"

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

/* A task's weights are converted to float32 when it runs: integer tensors are refused before
 * any work, not inside a task. */
static int check_float_weight(const rf_st_tensor *t) {
    if (t->dtype == RF_DTYPE_F32 || t->dtype == RF_DTYPE_F16 || t->dtype == RF_DTYPE_BF16)
        return RF_OK;
    return rf_fail("tensor %s is %s; a weight riverforge quantizes or generates must be F32, F16 "
                   "or BF16", t->name, rf_dtype_name(t->dtype));
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
    for (int i = 0; i < list->n && rc == RF_OK; i++) {
        const rf_task *task = &list->tasks[i];
        rc = rf_task_name_check(task->name);
        if (rc == RF_OK) rc = check_float_weight(task->tensor);
        if (rc == RF_OK && task->shared) rc = check_float_weight(task->shared);
    }
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

/* A shard is OUT/shards/NAME.h5, written through NAME.h5.tmp: the name must stay one file name
 * inside OUT/shards. Names are cut at 80 characters in messages, at a bad byte before it. */
int rf_task_name_check(const char *name) {
    const size_t len = strlen(name), longest = NAME_MAX - strlen(".h5" RF_ATOMIC_TMP_SUFFIX);
    const int shown = len > 80 ? 80 : (int)len;
    const char *more = len > 80 ? "..." : "";
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c < ' ' || *c > '~' || *c == '/') {
            const int at = (int)((const char *)c - name);
            char what[8];
            snprintf(what, sizeof what, *c == '/' ? "'/'" : "0x%02x", *c);
            return rf_fail("tensor %.*s%s: its name becomes a shard file's in OUT/shards, so it "
                           "must be printable ASCII without '/' (byte %d is %s)",
                           *c == '/' ? shown : at, name, *c == '/' ? more : "...", at, what);
        }
    if (name[0] == '.' || strstr(name, ".."))
        return rf_fail("tensor %.*s%s: a name that starts with '.' or holds \"..\" cannot name a "
                       "shard file in OUT/shards", shown, name, more);
    if (len > longest)
        return rf_fail("tensor %.*s%s: the name has %zu characters; a shard file name allows %zu",
                       shown, name, more, len, longest);
    return RF_OK;
}

void rf_task_shard_path(const char *out_dir, const rf_task *t, char *path, size_t len) {
    snprintf(path, len, "%s/shards/%s.h5", out_dir, t->name);
}

double rf_tasks_predict_ranks(const rf_task_list *list, const double *durations, int nranks,
                              double *rank_cost) {
    for (int r = 0; r < nranks; r++) rank_cost[r] = 0;
    for (int i = 0; i < list->n; i++) { /* the first rank to become free takes the next task */
        int best = 0;
        for (int r = 1; r < nranks; r++)
            if (rank_cost[r] < rank_cost[best]) best = r;
        rank_cost[best] += durations ? durations[i] : list->tasks[i].cost;
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

/* Peak bytes of one AQLM task (S = out*in weights, n = S/(og*ig) groups, B = beam_size). Held from
 * start to end: W and XTX in float32 (task_exec.c), the codes, codebooks and scales. On top, the
 * largest of the phases, each freed before the next starts:
 *   XTX check  XTX + eps I in float64 (shards/xtx_check.c)
 *   init       W / scale and the residual points (S floats each), the k-means sample, its
 *              assignments and centroid sums (aqlm_kmeans.c)
 *   epochs     Adam's gradient and two moments of the codebooks and scales, the loss's 2S floats,
 *              the code index, the beam pass's E (B*S floats), codes per hypothesis and dW
 *   errors     [dW; W] in float64 (2S doubles), W_hat (S floats), the XTX panels (aqlm_dequant.c)
 * The beam search's per-thread scratch (kilobytes) is left out. */
double rf_aqlm_task_bytes(int64_t out, int64_t in, const rf_aqlm_config *cfg, int with_xtx) {
    const double S = (double)out * (double)in, M = cfg->num_codebooks, B = cfg->beam_size;
    const double K = (double)(1 << cfg->nbits_per_codebook);
    const double d = cfg->out_group_size * cfg->in_group_size;
    const double Og = (double)(out / cfg->out_group_size), Ig = (double)(in / cfg->in_group_size);
    const double n = Og * Ig, xtx = with_xtx ? (double)in * (double)in : 0;
    const double ppc = cfg->init_max_points_per_centroid;
    const double fitted = ppc > 0 && ppc * K < n ? ppc * K : n; /* k-means points */
    const double codebooks = 4 * M * K * d, codes = 2 * n * M;
    const double held = 4 * S + 4 * xtx + codes + codebooks + 4 * Og;
    const double check = 8 * xtx;
    const double init = 8 * S + (fitted < n ? (4 * d + 8) * fitted : 0) + 4 * fitted + 8 * n +
                        12 * K * d;
    const double adam = 3 * codebooks + 12 * Og, index = 8 * M * (K + 1) + 8 * M * n;
    const double beam = 4 * B * S + B * codes + 16 * B * Og + 4 * Og + 4 * S + 4 * M * K;
    const double epochs = adam + 8 * S + index + 12 * Ig * M + beam;
    const double panels = with_xtx ? 8 * 128 * (double)in + 16 * 128 * (double)out : 0;
    const double errors = 16 * S + 4 * S + 16 * (double)out + panels;
    double peak = check;
    if (init > peak) peak = init;
    if (epochs > peak) peak = epochs;
    if (errors > peak) peak = errors;
    return held + peak;
}

double rf_task_predicted_bytes(const rf_task *t, const rf_aqlm_config *aqlm,
                               const rf_gen_config *gen, int with_xtx) {
    if (t->kind == RF_TASK_VIT) return rf_gen_predicted_bytes(t->out_features, t->in_features, gen);
    return rf_aqlm_task_bytes(t->out_features, t->in_features, aqlm, with_xtx);
}

int rf_tasks_check_memory(const rf_task_list *list, const rf_aqlm_config *aqlm,
                          const rf_gen_config *gen, int with_xtx, int ranks_on_node,
                          double bytes_available) {
    for (int i = 0; i < list->n; i++) {
        const rf_task *t = &list->tasks[i];
        const double need = rf_task_predicted_bytes(t, aqlm, gen, with_xtx);
        if (need * ranks_on_node > bytes_available)
            return rf_fail("%s [%lld, %lld]: %s needs about %.0f bytes (%.1f GiB) per rank, and %d "
                           "rank%s on this node %s %.0f bytes (%.1f GiB): run fewer ranks per "
                           "node, or on a node with more memory", t->name,
                           (long long)t->out_features, (long long)t->in_features,
                           t->kind == RF_TASK_VIT ? rf_gen_kind_name(gen->kind) : "AQLM", need,
                           need / (1 << 30), ranks_on_node, ranks_on_node == 1 ? "" : "s",
                           ranks_on_node == 1 ? "has" : "have", bytes_available,
                           bytes_available / (1 << 30));
    }
    return RF_OK;
}

double rf_node_memory_bytes(void) {
    return 0.8 * (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
}
