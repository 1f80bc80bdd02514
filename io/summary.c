/* summary.c -- see summary.h. */
#include "io/summary.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

static json_t *row_json(const rf_summary_row *r) {
    return json_pack("{s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:i, s:i, s:i}", "name", r->name,
                     "out_features", (json_int_t)r->out_features, "in_features",
                     (json_int_t)r->in_features, "rel_act_err", r->stats.rel_act_err, "rel_w_err",
                     r->stats.rel_w_err, "bits_per_weight", r->stats.bits_per_weight, "seconds",
                     r->stats.seconds, "epochs", r->stats.epochs, "adam_steps",
                     r->stats.adam_steps, "rank", r->rank);
}

char *rf_summary_json(const rf_summary *s) {
    json_t *tasks = json_array();
    double weights = 0, bits = 0, act = 0, task_seconds = 0;
    for (int i = 0; i < s->n; i++) {
        const rf_summary_row *r = &s->rows[i];
        double w = (double)r->out_features * (double)r->in_features;
        json_array_append_new(tasks, row_json(r));
        weights += w;
        bits += w * r->stats.bits_per_weight;
        act += r->stats.rel_act_err;
        task_seconds += r->stats.seconds;
    }
    json_error_t err;
    json_t *config = json_loads(s->config_json, 0, &err);
    rf_check(config, "run config is not JSON: %s", err.text);
    json_t *totals = json_pack("{s:i, s:f, s:f, s:f, s:f}", "tasks", s->n, "weights", weights,
                               "bits_per_weight", weights > 0 ? bits / weights : 0.0,
                               "mean_rel_act_err", s->n ? act / s->n : 0.0, "task_seconds",
                               task_seconds);
    json_t *root = json_pack("{s:s, s:s, s:s?, s:s, s:i, s:i, s:f, s:b, s:i, s:o, s:o, s:o}",
                             "riverforge_version", s->version, "model", s->model, "xtx", s->xtx,
                             "out", s->out, "ranks", s->ranks, "omp_threads", s->omp_threads,
                             "seconds", s->seconds, "complete", s->complete, "tasks_total",
                             s->tasks_total, "config", config, "totals", totals, "tasks", tasks);
    rf_check(root, "cannot build summary JSON");
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    rf_check(text, "cannot serialize summary JSON");
    return text;
}

static char *summary_csv(const rf_summary *s, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    rf_check(f, "open_memstream failed");
    fprintf(f, "name,out_features,in_features,rel_act_err,rel_w_err,bits_per_weight,seconds,"
               "epochs,adam_steps,rank\n");
    for (int i = 0; i < s->n; i++) {
        const rf_summary_row *r = &s->rows[i];
        fprintf(f, "%s,%lld,%lld,%.9g,%.9g,%.6f,%.3f,%d,%d,%d\n", r->name,
                (long long)r->out_features, (long long)r->in_features, r->stats.rel_act_err,
                r->stats.rel_w_err, r->stats.bits_per_weight, r->stats.seconds, r->stats.epochs,
                r->stats.adam_steps, r->rank);
    }
    fclose(f);
    return buf;
}

int rf_summary_write(const char *out_dir, const rf_summary *s) {
    char path[4096];
    char *json = rf_summary_json(s);
    size_t csv_len;
    char *csv = summary_csv(s, &csv_len);
    const void *json_part[2] = {json, "\n"};
    const size_t json_size[2] = {strlen(json), 1};
    snprintf(path, sizeof path, "%s/summary.json", out_dir);
    int rc = rf_atomic_write(path, 2, json_part, json_size);
    if (rc == RF_OK) {
        const void *csv_part[1] = {csv};
        snprintf(path, sizeof path, "%s/summary.csv", out_dir);
        rc = rf_atomic_write(path, 1, csv_part, &csv_len);
    }
    free(json);
    free(csv);
    return rc;
}
