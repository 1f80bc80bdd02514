/* report_plot.c -- see report_plot.h. */
#include "report/report_plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"

/* A gnuplot datablock: bits, error, "name", for the runs keep() accepts. */
static void datablock(FILE *f, const char *name, const rf_report *rep,
                      int (*keep)(const rf_report_run *)) {
    fprintf(f, "$%s << EOD\n", name);
    for (int i = 0; i < rep->n; i++) /* runs are sorted by bits: the front's line goes left to right */
        if (keep(&rep->runs[i]))
            fprintf(f, "%.9g %.9g \"%s\"\n", rep->runs[i].bits_per_weight,
                    rep->runs[i].mean_rel_act_err, rep->runs[i].name);
    fprintf(f, "EOD\n");
}

static int complete_run(const rf_report_run *r) { return r->complete; }
static int front_run(const rf_report_run *r) { return r->pareto; }
static int incomplete_run(const rf_report_run *r) { return !r->complete; }

/* A log y axis over [lo, hi] with tics at 1, 2 and 5 times the powers of ten in it: errors often
 * span less than a decade, where gnuplot's own tics (the powers of ten) leave one tic or none.
 * The caller's range spans a factor of 2.56 or more, above the largest gap (2 to 5), so there is
 * always a tic. */
static void log_axis(double lo, double hi, char *buf, size_t len) {
    static const int mantissas[3] = {1, 2, 5};
    size_t used = (size_t)snprintf(buf, len, "set logscale y\nset yrange [%.6g:%.6g]\nset ytics (", lo, hi);
    const char *sep = "";
    for (int e = (int)floor(log10(lo)); e <= (int)ceil(log10(hi)) && used < len; e++)
        for (int m = 0; m < 3 && used < len; m++) {
            const double tic = mantissas[m] * pow(10, e);
            if (tic < lo || tic > hi) continue;
            used += (size_t)snprintf(buf + used, len - used, "%s%.6g", sep, tic);
            sep = ", ";
        }
    if (used < len) snprintf(buf + used, len - used, ")\n");
}

char *rf_report_gnuplot_script(const rf_report *rep) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rf_check(f, "open_memstream failed");
    int incomplete = 0;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < rep->n; i++) {
        const rf_report_run *r = &rep->runs[i];
        incomplete |= !r->complete;
        xmin = fmin(xmin, r->bits_per_weight);
        xmax = fmax(xmax, r->bits_per_weight);
        ymin = fmin(ymin, r->mean_rel_act_err);
        ymax = fmax(ymax, r->mean_rel_act_err);
    }
    const int positive = ymin > 0; /* a log scale needs errors above zero */
    /* room around the points, more on the right for the labels */
    const double xspan = fmax(xmax - xmin, 0.5);
    char yrange[1024];
    if (positive) log_axis(ymin / 1.6, ymax * 1.6, yrange, sizeof yrange);
    else snprintf(yrange, sizeof yrange, "set yrange [0:%.6g]\n", ymax > 0 ? ymax * 1.15 : 1.0);
    fprintf(f, "# report.gp -- written by riverforge report: `gnuplot report.gp` draws report.png\n"
               "if (!exists(\"png\")) png = \"report.png\"\n"
               "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
               "    set terminal pngcairo size 1200,800 font \",12\"\n"
               "} else {\n"
               "    set terminal png size 1200,800\n"
               "}\n"
               "set output png\n"
               "set termoption noenhanced\n"
               "set title \"riverforge report: %d run%s, mean rel_act_err against bits per weight "
               "(lower left is better)\"\n"
               "set xlabel \"bits per weight (codes + codebooks + scales)\"\n"
               "set ylabel \"mean rel_act_err = tr(dW XTX dW^T) / tr(W XTX W^T)%s\"\n"
               "%s"
               "set grid\n"
               "set key top right box opaque\n"
               "set xrange [%.6g:%.6g]\n",
            rep->n, rep->n == 1 ? "" : "s", positive ? " (log scale)" : "", yrange, xmin - 0.1 * xspan, xmax + 0.25 * xspan);
    datablock(f, "runs", rep, complete_run);
    datablock(f, "front", rep, front_run);
    datablock(f, "incomplete", rep, incomplete_run);
    fprintf(f, "plot $front using 1:2 with lines lw 2 lc rgb \"#c03030\" title \"Pareto front\", \\\n"
               "     $runs using 1:2 with points pt 7 ps 1.6 lc rgb \"#3060b0\" title \"configuration (mean over its matrices)\", \\\n"
               "     $front using 1:2 with points pt 7 ps 2.0 lc rgb \"#c03030\" notitle, \\\n"
               "%s"
               "     $runs using 1:2:3 with labels left offset 1,0.7 notitle%s\n",
            incomplete ? "     $incomplete using 1:2 with points pt 6 ps 1.6 lc rgb \"#808080\" "
                         "title \"did not finish\", \\\n" : "",
            incomplete ? ", \\\n     $incomplete using 1:2:3 with labels left offset 1,0.7 tc rgb "
                         "\"#808080\" notitle" : "");
    fclose(f);
    return text;
}

/* Runs `gnuplot -e 'png="report.png.tmp"' report.gp` in dir. Returns its exit status, 127 when it
 * could not be started. */
static int run_gnuplot(const char *dir) {
    fflush(NULL);
    pid_t pid = fork();
    rf_check(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir) == 0)
            execlp("gnuplot", "gnuplot", "-e", "png=\"report.png.tmp\"", "report.gp", (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) rf_check(errno == EINTR, "waitpid failed: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int gnuplot_on_path(void) {
    const char *path = getenv("PATH");
    char *copy = rf_strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    int found = 0;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char file[4200];
        snprintf(file, sizeof file, "%s/gnuplot", d);
        found = access(file, X_OK) == 0;
    }
    free(copy);
    return found;
}

int rf_report_plot(const char *out_dir, const rf_report *rep) {
    if (!gnuplot_on_path()) return RF_REPORT_NO_GNUPLOT;
    char script[4200], tmp[4200], png[4200];
    snprintf(script, sizeof script, "%s/report.gp", out_dir);
    snprintf(tmp, sizeof tmp, "%s/report.png.tmp", out_dir);
    snprintf(png, sizeof png, "%s/report.png", out_dir);
    char *text = rf_report_gnuplot_script(rep);
    const void *parts[1] = {text};
    const size_t len = strlen(text);
    int rc = rf_atomic_write(script, 1, parts, &len);
    free(text);
    if (rc != RF_OK) return RF_ERR;
    const int status = run_gnuplot(out_dir);
    if (status != 0) {
        unlink(tmp);
        return rf_fail("gnuplot failed on %s (exit status %d; its messages are above)", script, status);
    }
    return rf_atomic_commit(tmp, png);
}
