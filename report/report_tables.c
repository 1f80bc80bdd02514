/* report_tables.c -- see report_tables.h. The terminal and Markdown tables are one layout: a
 * table writes each cell aligned (terminal) or between pipes (Markdown). */
#include "report/report_tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

typedef struct {
    FILE *f;
    int markdown;
    int ncols;     /* cells in this row so far */
} table;

/* One cell; width < 0 aligns left. */
static void cell(table *t, int width, const char *text) {
    if (t->markdown) fprintf(t->f, "| %s ", text);
    else fprintf(t->f, "%s%*s", t->ncols ? "  " : "", width, text);
    t->ncols++;
}

static void end_row(table *t) {
    fprintf(t->f, t->markdown ? "|\n" : "\n");
    t->ncols = 0;
}

/* Markdown's line under the header: left-aligned text, right-aligned numbers. */
static void header_rule(table *t, int ntext, int ncols) {
    if (!t->markdown) return;
    for (int i = 0; i < ncols; i++) fprintf(t->f, "|%s", i < ntext ? "---" : "---:");
    fprintf(t->f, "|\n");
}

static void number_cell(table *t, int width, const char *format, double v) {
    char text[32] = "-";
    if (!isnan(v)) snprintf(text, sizeof text, format, v);
    cell(t, width, text);
}

static const char *front_mark(const rf_report_run *r) {
    return !r->complete ? "incomplete" : r->pareto ? "*" : "";
}

static void runs_table(table *t, const rf_report *rep) {
    static const char *head[] = {"front", "configuration", "bits/w", "mean rel_act_err",
                                 "max rel_act_err", "mean rel_w_err", "perplexity", "seconds",
                                 "task seconds", "matrices", "folder"};
    static const int width[] = {-10, -24, 8, 16, 15, 14, 10, 9, 12, 8, -1};
    for (int c = 0; c < 11; c++) cell(t, width[c], head[c]);
    end_row(t);
    header_rule(t, 2, 11);
    for (int i = 0; i < rep->n; i++) {
        const rf_report_run *r = &rep->runs[i];
        cell(t, width[0], front_mark(r));
        cell(t, width[1], r->name);
        number_cell(t, width[2], "%.4f", r->bits_per_weight);
        number_cell(t, width[3], "%.6f", r->mean_rel_act_err);
        number_cell(t, width[4], "%.6f", r->max_rel_act_err);
        number_cell(t, width[5], "%.6f", r->mean_rel_w_err);
        number_cell(t, width[6], "%.4f", r->perplexity);
        number_cell(t, width[7], "%.1f", r->seconds);
        number_cell(t, width[8], "%.1f", r->task_seconds);
        number_cell(t, width[9], "%.0f", r->matrices);
        cell(t, width[10], r->dir);
        end_row(t);
    }
}

static void kinds_table(table *t, const rf_report *rep) {
    cell(t, -24, "configuration");
    for (int k = 0; k < RF_REPORT_NUM_KINDS; k++) cell(t, 10, rf_report_kinds[k]);
    end_row(t);
    header_rule(t, 1, 1 + RF_REPORT_NUM_KINDS);
    for (int i = 0; i < rep->n; i++) {
        cell(t, -24, rep->runs[i].name);
        for (int k = 0; k < RF_REPORT_NUM_KINDS; k++)
            number_cell(t, 10, "%.6f", rep->runs[i].kind_rel_act_err[k]);
        end_row(t);
    }
}

static void caveats(FILE *f, const rf_report *rep) {
    for (int i = 0; i < rep->n; i++)
        if (!rep->runs[i].complete)
            fprintf(f, "%s did not finish (interrupted; rerun it to resume): its means cover the %d "
                       "matrices it did, and it is not on the front.\n", rep->runs[i].dir,
                    rep->runs[i].matrices);
    if (!rep->same_model)
        fprintf(f, "The runs quantized different models (summary.json's \"model\"): compare with "
                   "care.\n");
}

static void print_tables(FILE *f, const rf_report *rep, int markdown) {
    table t = {f, markdown, 0};
    const char *bits = "bits/w counts codes, codebooks and scales; errors are means over the "
                       "quantized matrices";
    if (markdown)
        fprintf(f, "# riverforge report\n\n%d run%s; * marks the Pareto front (the least mean "
                   "rel_act_err for its bits per weight). %s.\n\n", rep->n, rep->n == 1 ? "" : "s",
                bits);
    else
        fprintf(f, "%d run%s; * marks the Pareto front of mean rel_act_err against bits per weight\n"
                   "(%s)\n\n", rep->n, rep->n == 1 ? "" : "s", bits);
    runs_table(&t, rep);
    fprintf(f, markdown ? "\n## Per projection: mean rel_act_err\n\n" : "\nper projection: mean rel_act_err\n");
    kinds_table(&t, rep);
    fprintf(f, "\n");
    caveats(f, rep);
}

void rf_report_print(FILE *f, const rf_report *rep) { print_tables(f, rep, 0); }

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_text(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_number(FILE *f, double v) {
    if (!isnan(v)) fprintf(f, "%.9g", v);
}

static void write_csv(FILE *f, const rf_report *rep) {
    fprintf(f, "name,folder,complete,pareto,matrices,bits_per_weight,mean_rel_act_err,"
               "max_rel_act_err,mean_rel_w_err,perplexity,seconds,task_seconds");
    for (int k = 0; rf_sweep_setting_name(k); k++) fprintf(f, ",%s", rf_sweep_setting_name(k));
    for (int k = 0; k < RF_REPORT_NUM_KINDS; k++) fprintf(f, ",%s_rel_act_err", rf_report_kinds[k]);
    fprintf(f, "\n");
    for (int i = 0; i < rep->n; i++) {
        const rf_report_run *r = &rep->runs[i];
        csv_text(f, r->name);
        fputc(',', f);
        csv_text(f, r->dir);
        fprintf(f, ",%d,%d,%d", r->complete, r->pareto, r->matrices);
        const double v[] = {r->bits_per_weight, r->mean_rel_act_err, r->max_rel_act_err,
                            r->mean_rel_w_err, r->perplexity, r->seconds, r->task_seconds};
        for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
            fputc(',', f);
            csv_number(f, v[j]);
        }
        for (int k = 0; rf_sweep_setting_name(k); k++) fprintf(f, ",%.15g", rf_sweep_get(&r->cfg, k));
        for (int k = 0; k < RF_REPORT_NUM_KINDS; k++) {
            fputc(',', f);
            csv_number(f, r->kind_rel_act_err[k]);
        }
        fputc('\n', f);
    }
}

/* PATH written atomically from the text write() prints. */
static int write_text(const char *out_dir, const char *file, const rf_report *rep,
                      void (*write)(FILE *, const rf_report *)) {
    char path[4200], *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rf_check(f, "open_memstream failed");
    write(f, rep);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s", out_dir, file);
    const void *parts[1] = {text};
    int rc = rf_atomic_write(path, 1, parts, &len);
    free(text);
    return rc;
}

static void write_markdown(FILE *f, const rf_report *rep) { print_tables(f, rep, 1); }

int rf_report_write_tables(const char *out_dir, const rf_report *rep) {
    if (write_text(out_dir, "report.csv", rep, write_csv) != RF_OK) return RF_ERR;
    return write_text(out_dir, "report.md", rep, write_markdown);
}
