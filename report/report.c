/* report.c -- see report.h. */
#define _GNU_SOURCE /* versionsort */
#include "report/report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "report/pareto.h"

const char *const rf_report_kinds[RF_REPORT_NUM_KINDS] = {
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

/* The index in rf_report_kinds of the matrix NAME's last part, or -1. */
static int kind_of(const char *name) {
    const char *dot = strrchr(name, '.');
    const char *last = dot ? dot + 1 : name;
    for (int k = 0; k < RF_REPORT_NUM_KINDS; k++)
        if (!strcmp(last, rf_report_kinds[k])) return k;
    return -1;
}

static int read_config(const char *path, json_t *config, rf_aqlm_config *cfg) {
    *cfg = rf_aqlm_config_default();
    for (int k = 0; rf_sweep_setting_name(k); k++) {
        json_t *v = json_object_get(config, rf_sweep_setting_name(k));
        if (!json_is_number(v))
            return rf_fail("%s: config.%s is missing or not a number", path, rf_sweep_setting_name(k));
        if (rf_sweep_set(cfg, k, json_number_value(v)) != RF_OK)
            return rf_fail_prefix("%s: config: ", path);
    }
    return RF_OK;
}

/* The AQLM rows of tasks into r's sums and means. */
static int read_tasks(const char *path, json_t *tasks, rf_report_run *r) {
    double bits = 0, act = 0, werr = 0, kind_sum[RF_REPORT_NUM_KINDS] = {0};
    int kind_n[RF_REPORT_NUM_KINDS] = {0};
    size_t i;
    json_t *row;
    json_array_foreach(tasks, i, row) {
        const char *kind = NULL, *name = NULL;
        json_int_t out = 0, in = 0;
        double rel_act, rel_w, b;
        json_error_t err;
        if (json_unpack_ex(row, &err, 0, "{s:s, s:s}", "kind", &kind, "name", &name) != 0)
            return rf_fail("%s: tasks[%zu]: %s", path, i, err.text);
        const json_t *seconds = json_object_get(row, "seconds"); /* every task's, ViT ones too */
        if (json_is_number(seconds)) r->task_seconds += json_number_value(seconds);
        if (strcmp(kind, "aqlm") != 0) continue;
        if (json_unpack_ex(row, &err, 0, "{s:I, s:I, s:F, s:F, s:F}", "out_features", &out,
                           "in_features", &in, "rel_act_err", &rel_act, "rel_w_err", &rel_w,
                           "bits_per_weight", &b) != 0)
            return rf_fail("%s: tasks[%zu] (%s): %s", path, i, name, err.text);
        if (out < 1 || in < 1)
            return rf_fail("%s: tasks[%zu] (%s): shape [%lld, %lld] has no weights", path, i, name,
                           (long long)out, (long long)in);
        const double w = (double)out * (double)in;
        r->matrices++;
        r->weights += w;
        bits += w * b;
        act += rel_act;
        werr += rel_w;
        if (rel_act > r->max_rel_act_err) r->max_rel_act_err = rel_act;
        const int k = kind_of(name);
        if (k >= 0) {
            kind_sum[k] += rel_act;
            kind_n[k]++;
        }
    }
    if (r->matrices == 0)
        return rf_fail("%s: the run has no quantized (aqlm) matrices to compare", path);
    r->bits_per_weight = bits / r->weights;
    r->mean_rel_act_err = act / r->matrices;
    r->mean_rel_w_err = werr / r->matrices;
    for (int k = 0; k < RF_REPORT_NUM_KINDS; k++)
        r->kind_rel_act_err[k] = kind_n[k] ? kind_sum[k] / kind_n[k] : NAN;
    return RF_OK;
}

int rf_report_read_run(const char *dir, rf_report_run *r) {
    char path[4200];
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        if (err.line < 1) return rf_fail("%s: %s", path, err.text); /* cannot be opened */
        return rf_fail("%s: not valid JSON (line %d: %s)", path, err.line, err.text);
    }
    const char *model = NULL;
    int complete = 0;
    json_t *config = NULL, *tasks = NULL, *perplexity = json_object_get(root, "perplexity");
    int rc = RF_OK;
    if (json_unpack_ex(root, &err, 0, "{s:s, s:b, s:F, s:o, s:o}", "model", &model, "complete",
                       &complete, "seconds", &r->seconds, "config", &config, "tasks", &tasks) != 0)
        rc = rf_fail("%s: %s", path, err.text);
    else if (!json_is_object(config) || !json_is_array(tasks))
        rc = rf_fail("%s: config must be an object and tasks an array", path);
    else if (perplexity && !json_is_number(perplexity))
        rc = rf_fail("%s: perplexity is not a number", path);
    if (rc == RF_OK) rc = read_config(path, config, &r->cfg);
    if (rc == RF_OK) rc = read_tasks(path, tasks, r);
    if (rc == RF_OK) {
        r->model = rf_strdup(model);
        r->complete = complete;
        r->perplexity = perplexity ? json_number_value(perplexity) : NAN;
    }
    json_decref(root);
    return rc;
}

static int has_file(const char *dir, const char *file) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &st) == 0;
}

static int has_summary(const char *dir) { return has_file(dir, "summary.json"); }

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

typedef struct {
    int n, cap;
    char **dirs;
} run_list;

static void add_run(run_list *l, const char *dir) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->dirs = realloc(l->dirs, (size_t)l->cap * sizeof *l->dirs);
        rf_check(l->dirs, "out of memory");
    }
    l->dirs[l->n++] = rf_strdup(dir);
}

/* Appends dir to l when it is a run, else its subfolders that are. */
static int find_runs(const char *dir, run_list *l) {
    struct stat st;
    if (stat(dir, &st) != 0) return rf_fail("%s: %s", dir, strerror(errno));
    if (has_summary(dir)) {
        add_run(l, dir);
        return RF_OK;
    }
    const int before = l->n;
    if (S_ISDIR(st.st_mode)) {
        struct dirent **entries;
        const int n = scandir(dir, &entries, not_hidden, versionsort);
        if (n < 0) return rf_fail("%s: %s", dir, strerror(errno));
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
            if (has_summary(path)) add_run(l, path);
            else if (has_file(path, "manifest.json")) /* a run started, not finished */
                rf_warn("%s has no summary.json yet (a run in progress?): left out", path);
            free(entries[i]);
        }
        free(entries);
    }
    if (l->n == before)
        return rf_fail("%s: no summary.json in it or in its subfolders (expected a run's --out, or "
                       "a folder of them such as a sweep's OUT with config-0, config-1, ...)", dir);
    return RF_OK;
}

static int by_bits_then_error(const void *a, const void *b) {
    const rf_report_run *p = a, *q = b;
    if (p->bits_per_weight != q->bits_per_weight) return p->bits_per_weight < q->bits_per_weight ? -1 : 1;
    if (p->mean_rel_act_err != q->mean_rel_act_err)
        return p->mean_rel_act_err < q->mean_rel_act_err ? -1 : 1;
    return strcmp(p->dir, q->dir);
}

/* Names every run by its configuration, showing the settings in which the runs differ. */
static void name_runs(rf_report *rep) {
    rf_aqlm_config *cfgs = rf_calloc((size_t)rep->n, sizeof *cfgs);
    for (int i = 0; i < rep->n; i++) cfgs[i] = rep->runs[i].cfg;
    const unsigned varying = rf_sweep_varying(cfgs, rep->n);
    for (int i = 0; i < rep->n; i++)
        rf_sweep_name(&rep->runs[i].cfg, varying, rep->runs[i].name, sizeof rep->runs[i].name);
    free(cfgs);
}

/* An incomplete run's means are over the matrices it did: it takes no part in the front. */
static void mark_front(rf_report *rep) {
    double *x = rf_calloc((size_t)rep->n, sizeof *x), *y = rf_calloc((size_t)rep->n, sizeof *y);
    unsigned char *front = rf_calloc((size_t)rep->n, 1);
    for (int i = 0; i < rep->n; i++) {
        x[i] = rep->runs[i].complete ? rep->runs[i].bits_per_weight : NAN;
        y[i] = rep->runs[i].mean_rel_act_err;
    }
    rf_pareto_front(x, y, rep->n, front);
    for (int i = 0; i < rep->n; i++) rep->runs[i].pareto = front[i];
    free(front);
    free(y);
    free(x);
}

int rf_report_collect(int ndirs, char *const *dirs, rf_report *rep) {
    memset(rep, 0, sizeof *rep);
    run_list found = {0};
    int rc = ndirs > 0 ? RF_OK : rf_fail("no run folders given");
    for (int i = 0; i < ndirs && rc == RF_OK; i++) rc = find_runs(dirs[i], &found);
    if (rc == RF_OK) rep->runs = rf_calloc((size_t)found.n, sizeof *rep->runs);
    for (int i = 0; i < found.n && rc == RF_OK; i++) {
        rc = rf_report_read_run(found.dirs[i], &rep->runs[i]);
        if (rc == RF_OK) rep->n++;
    }
    for (int i = 0; i < found.n; i++) free(found.dirs[i]);
    free(found.dirs);
    if (rc != RF_OK) {
        rf_report_free(rep);
        return RF_ERR;
    }
    rep->same_model = 1;
    for (int i = 1; i < rep->n; i++)
        rep->same_model &= !strcmp(rep->runs[i].model, rep->runs[0].model);
    name_runs(rep);
    mark_front(rep);
    qsort(rep->runs, (size_t)rep->n, sizeof *rep->runs, by_bits_then_error);
    return RF_OK;
}

void rf_report_free(rf_report *rep) {
    for (int i = 0; i < rep->n; i++) free(rep->runs[i].model);
    free(rep->runs);
    memset(rep, 0, sizeof *rep);
}
