/* summary.c -- see summary.h. */
#include "io/summary.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

static json_t *row_json(const rf_summary_row *r) {
    if (r->vit) {
        const rf_gen_stats *g = &r->gen;
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:b, s:b, s:I, s:I, s:i, "
                         "s:i, s:i, s:f, s:i}",
                         "name", r->name, "kind", "vit", "method", r->method, "shared_from",
                         r->shared_from, "out_features", (json_int_t)r->out_features,
                         "in_features", (json_int_t)r->in_features, "rel_w_err", g->rel_w_err,
                         "shared_rel_w_err", g->shared_rel_w_err, "baseline_rel_w_err",
                         g->baseline_rel_w_err, "beats_sharing",
                         g->rel_w_err < g->shared_rel_w_err, "beats_baseline",
                         g->rel_w_err < g->baseline_rel_w_err, "params", (json_int_t)g->params,
                         "baseline_params", (json_int_t)g->baseline_params, "qubits", g->qubits,
                         "layers", g->layers, "steps", g->steps, "seconds", g->seconds, "rank",
                         r->rank);
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:i, s:i, s:i}", "name", r->name,
                     "kind", "aqlm", "out_features", (json_int_t)r->out_features, "in_features",
                     (json_int_t)r->in_features, "rel_act_err", r->stats.rel_act_err, "rel_w_err",
                     r->stats.rel_w_err, "bits_per_weight", r->stats.bits_per_weight, "seconds",
                     r->stats.seconds, "epochs", r->stats.epochs, "adam_steps",
                     r->stats.adam_steps, "rank", r->rank);
}

rf_vit_totals rf_summary_vit_totals(const rf_summary_row *rows, int n) {
    rf_vit_totals t = {0};
    for (int i = 0; i < n; i++) {
        const rf_gen_stats *g = &rows[i].gen;
        if (!rows[i].vit) continue;
        t.n++;
        t.mean_rel_w_err += g->rel_w_err;
        t.mean_shared_rel_w_err += g->shared_rel_w_err;
        t.mean_baseline_rel_w_err += g->baseline_rel_w_err;
        t.beats_sharing += g->rel_w_err < g->shared_rel_w_err;
        t.beats_baseline += g->rel_w_err < g->baseline_rel_w_err;
        t.task_seconds += g->seconds;
    }
    if (t.n) {
        t.mean_rel_w_err /= t.n;
        t.mean_shared_rel_w_err /= t.n;
        t.mean_baseline_rel_w_err /= t.n;
    }
    return t;
}

static json_t *vit_totals_json(const rf_summary *s) {
    const rf_vit_totals t = rf_summary_vit_totals(s->rows, s->n);
    if (t.n == 0) return NULL;
    return json_pack("{s:i, s:f, s:f, s:f, s:i, s:i, s:f}", "tasks", t.n, "mean_rel_w_err",
                     t.mean_rel_w_err, "mean_shared_rel_w_err", t.mean_shared_rel_w_err,
                     "mean_baseline_rel_w_err", t.mean_baseline_rel_w_err, "beats_sharing",
                     t.beats_sharing, "beats_baseline", t.beats_baseline, "task_seconds",
                     t.task_seconds);
}

char *rf_summary_json(const rf_summary *s) {
    json_t *tasks = json_array();
    double weights = 0, bits = 0, act = 0, task_seconds = 0;
    int naqlm = 0;
    for (int i = 0; i < s->n; i++) {
        const rf_summary_row *r = &s->rows[i];
        double w = (double)r->out_features * (double)r->in_features;
        json_array_append_new(tasks, row_json(r));
        if (r->vit) continue;
        naqlm++;
        weights += w;
        bits += w * r->stats.bits_per_weight;
        act += r->stats.rel_act_err;
        task_seconds += r->stats.seconds;
    }
    json_error_t err;
    json_t *config = json_loads(s->config_json, 0, &err);
    rf_check(config, "run config is not JSON: %s", err.text);
    /* the AQLM matrices; the generated ViT matrices have totals of their own */
    json_t *totals = json_pack("{s:i, s:f, s:f, s:f, s:f, s:o*}", "tasks", naqlm, "weights", weights,
                               "bits_per_weight", weights > 0 ? bits / weights : 0.0,
                               "mean_rel_act_err", naqlm ? act / naqlm : 0.0, "task_seconds",
                               task_seconds, "vit", vit_totals_json(s));
    json_t *root = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:i, s:f, s:b, s:s*, s:i, "
                             "s:o, s:o, s:o}",
                             "riverforge_version", s->version, "model", s->model, "model_type",
                             s->model_type, "architecture", s->architecture, "xtx", s->xtx,
                             "out", s->out, "ranks", s->ranks, "omp_threads", s->omp_threads,
                             "seconds", s->seconds, "complete", s->complete, "assembly_error",
                             s->assembly_error, "tasks_total", s->tasks_total, "config", config,
                             "totals", totals, "tasks", tasks);
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
               "epochs,adam_steps,rank,kind,method,shared_from,shared_rel_w_err,"
               "baseline_rel_w_err,params,baseline_params\n");
    for (int i = 0; i < s->n; i++) {
        const rf_summary_row *r = &s->rows[i];
        const rf_gen_stats *g = &r->gen;
        if (r->vit)
            fprintf(f, "%s,%lld,%lld,,%.9g,,%.3f,,,%d,vit,%s,%s,%.9g,%.9g,%lld,%lld\n", r->name,
                    (long long)r->out_features, (long long)r->in_features, g->rel_w_err,
                    g->seconds, r->rank, r->method, r->shared_from, g->shared_rel_w_err,
                    g->baseline_rel_w_err, (long long)g->params, (long long)g->baseline_params);
        else
            fprintf(f, "%s,%lld,%lld,%.9g,%.9g,%.6f,%.3f,%d,%d,%d,aqlm,,,,,,\n", r->name,
                    (long long)r->out_features, (long long)r->in_features, r->stats.rel_act_err,
                    r->stats.rel_w_err, r->stats.bits_per_weight, r->stats.seconds,
                    r->stats.epochs, r->stats.adam_steps, r->rank);
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

int rf_summary_write_run(const char *out_dir, rf_summary *s, int assembly_status) {
    if (assembly_status == RF_OK) return rf_summary_write(out_dir, s);
    char *reason = rf_strdup(rf_last_error());
    s->complete = 0;
    s->assembly_error = reason;
    if (rf_summary_write(out_dir, s) == RF_OK) {
        rf_fail("%s", reason);
    } else {
        /* An earlier run's summary must not stay behind saying "complete": true. */
        char *unwritten = rf_strdup(rf_last_error()), path[4096];
        snprintf(path, sizeof path, "%s/summary.json", out_dir);
        unlink(path);
        rf_fail("%s (and the summary cannot be written: %s)", reason, unwritten);
        free(unwritten);
    }
    s->assembly_error = NULL;
    free(reason);
    return RF_ERR;
}

/* "q_proj" of "model.layers.0.self_attn.q_proj". */
static const char *projection_kind(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

static int same_group(const rf_summary_row *a, const rf_summary_row *b) {
    return !b->vit && !strcmp(projection_kind(a->name), projection_kind(b->name)) &&
           a->out_features == b->out_features && a->in_features == b->in_features;
}

static void print_aqlm_table(FILE *f, const rf_summary_row *rows, int n) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= !rows[i].vit;
    if (!any) return;
    fprintf(f, "\n%-10s %5s %14s %10s %12s %10s %10s\n", "matrix", "count", "shape", "bits/w",
            "rel_act_err", "rel_w_err", "seconds");
    char *seen = rf_calloc((size_t)n, 1);
    double weights = 0, bits = 0, seconds = 0, act = 0;
    int naqlm = 0;
    for (int i = 0; i < n; i++) {
        if (seen[i] || rows[i].vit) continue;
        int count = 0;
        double b = 0, ae = 0, we = 0, sec = 0;
        for (int j = i; j < n; j++) {
            if (seen[j] || !same_group(&rows[i], &rows[j])) continue;
            seen[j] = 1;
            count++;
            b += rows[j].stats.bits_per_weight;
            ae += rows[j].stats.rel_act_err;
            we += rows[j].stats.rel_w_err;
            sec += rows[j].stats.seconds;
        }
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows[i].out_features,
                 (long long)rows[i].in_features);
        fprintf(f, "%-10s %5d %14s %10.4f %12.6f %10.6f %10.2f\n", projection_kind(rows[i].name),
                count, shape, b / count, ae / count, we / count, sec);
        const double w = (double)rows[i].out_features * (double)rows[i].in_features * count;
        weights += w;
        bits += w * b / count;
        seconds += sec;
        act += ae;
        naqlm += count;
    }
    fprintf(f, "%-10s %5d %14s %10.4f %12.6f %10s %10.2f\n", "total", naqlm, "", bits / weights,
            act / naqlm, "", seconds);
    free(seen);
}

/* The paper's claim under test (does the generator beat plain sharing and the classical
 * baseline?) is reported either way. */
static void print_vit_table(FILE *f, const rf_summary_row *rows, int n) {
    int header = 0;
    for (int i = 0; i < n; i++) {
        const rf_gen_stats *g = &rows[i].gen;
        if (!rows[i].vit) continue;
        if (!header++)
            fprintf(f, "\n%-52s %-8s %10s %10s %10s %9s %6s %8s\n", "shared ViT matrix", "method",
                    "rel_w_err", "sharing", "baseline", "params", "qubits", "seconds");
        fprintf(f, "%-52s %-8s %10.6f %10.6f %10.6f %9lld %6d %8.2f\n", rows[i].name,
                rows[i].method, g->rel_w_err, g->shared_rel_w_err, g->baseline_rel_w_err,
                (long long)g->params, g->qubits, g->seconds);
    }
    const rf_vit_totals t = rf_summary_vit_totals(rows, n);
    if (t.n)
        fprintf(f, "%s beats plain sharing on %d of %d matrices and the classical baseline on %d of "
                   "%d (mean rel_w_err %.4f, sharing %.4f, baseline %.4f)\n", rows[0].method,
                t.beats_sharing, t.n, t.beats_baseline, t.n, t.mean_rel_w_err,
                t.mean_shared_rel_w_err, t.mean_baseline_rel_w_err);
}

void rf_summary_print_tables(FILE *f, const rf_summary_row *rows, int n) {
    print_aqlm_table(f, rows, n);
    print_vit_table(f, rows, n);
}

static json_t *load_summary(const char *out_dir, char *path, size_t len) {
    snprintf(path, len, "%s/summary.json", out_dir);
    return json_load_file(path, 0, NULL);
}

int rf_summary_add_eval(const char *out_dir, const rf_summary_eval *e) {
    char path[4096];
    json_t *root = load_summary(out_dir, path, sizeof path);
    if (!root) return rf_fail("%s: cannot read the summary to add the perplexity", path);
    json_t *fields = json_pack("{s:f, s:f, s:f, s:s, s:i, s:I, s:I}", "perplexity", e->perplexity,
                               "dense_perplexity", e->dense_perplexity, "perplexity_ratio",
                               e->perplexity / e->dense_perplexity, "eval_tokens", e->tokens,
                               "eval_seqlen", e->seqlen, "eval_sequences",
                               (json_int_t)e->sequences, "eval_predicted_tokens",
                               (json_int_t)e->predicted);
    rf_check(fields && json_object_update(root, fields) == 0, "cannot build the summary JSON");
    json_decref(fields);
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    rf_check(text, "cannot serialize summary JSON");
    const void *part[2] = {text, "\n"};
    const size_t size[2] = {strlen(text), 1};
    int rc = rf_atomic_write(path, 2, part, size);
    free(text);
    return rc;
}

int rf_summary_find_eval(const char *out_dir, const rf_summary_eval *want, rf_summary_eval *got) {
    char path[4096];
    json_t *root = load_summary(out_dir, path, sizeof path);
    const char *tokens = NULL;
    int complete = 0, seqlen = 0;
    json_int_t sequences = 0, predicted = 0;
    double ppl = 0, dense = 0;
    int found = root &&
                json_unpack(root, "{s:b, s:F, s:F, s:s, s:i, s:I, s:I}", "complete", &complete,
                            "perplexity", &ppl, "dense_perplexity", &dense, "eval_tokens", &tokens,
                            "eval_seqlen", &seqlen, "eval_sequences", &sequences,
                            "eval_predicted_tokens", &predicted) == 0 &&
                complete && !strcmp(tokens, want->tokens) && seqlen == want->seqlen &&
                sequences == want->sequences;
    if (found)
        *got = (rf_summary_eval){.tokens = want->tokens, .seqlen = seqlen, .sequences = sequences,
                                 .predicted = predicted, .perplexity = ppl,
                                 .dense_perplexity = dense};
    json_decref(root);
    return found;
}
