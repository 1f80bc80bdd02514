/* cmd_report.c -- `riverforge report DIR... [--out DIR] [--plot auto|yes|no]`: runs compared side
 * by side (report/report.h): a table with the Pareto front marked and a per-projection table on
 * the terminal, OUT/report.csv, OUT/report.md and the plot OUT/report.png (with its gnuplot script
 * OUT/report.gp). DIR is a run's --out or a folder of them (a sweep's OUT). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "report/report_plot.h"
#include "report/report_tables.h"

static void print_help(const rf_opt *opts, int nopts) {
    rf_cli_help(stdout, "riverforge report DIR... [--out DIR] [--plot auto|yes|no]",
                "Compares runs: DIR is a run's --out (with summary.json) or a folder of them (a\n"
                "sweep's OUT with config-0, config-1, ...). Prints one row per run (named after\n"
                "its configuration, e.g. 2x8-g8): bits per weight including codebooks and scales,\n"
                "mean and max rel_act_err, mean rel_w_err, perplexity when the run recorded one,\n"
                "seconds, matrices; * marks the Pareto front (the least mean rel_act_err for its\n"
                "bits per weight). Then the mean rel_act_err per projection (q_proj ... down_proj).\n"
                "Writes OUT/report.csv, OUT/report.md and, with gnuplot (Debian: gnuplot-nox),\n"
                "OUT/report.png (mean rel_act_err against bits per weight, the front drawn) and\n"
                "its script OUT/report.gp. --plot auto draws when gnuplot is on PATH; yes\n"
                "requires it; no skips the plot.",
                opts, nopts);
}

/* Flags (each with its value) and folders apart: rf_cli_parse takes only flags. */
static void split_args(int argc, char **argv, char **flags, int *nflags, char **dirs, int *ndirs) {
    *nflags = *ndirs = 0;
    flags[(*nflags)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            dirs[(*ndirs)++] = argv[i];
            continue;
        }
        flags[(*nflags)++] = argv[i];
        const int takes_value = !strncmp(argv[i], "--", 2) && !strchr(argv[i], '=') &&
                                strcmp(argv[i], "--help") != 0;
        if (takes_value && i + 1 < argc) flags[(*nflags)++] = argv[++i];
    }
}

static int make_report(char **dirs, int ndirs, const char *out, const char *plot) {
    rf_report rep;
    if (rf_report_collect(ndirs, dirs, &rep) != RF_OK) return RF_ERR;
    int rc = rf_make_dirs(out) != RF_OK ? rf_fail_prefix("--out: ") : RF_OK;
    if (rc == RF_OK) {
        rf_report_print(stdout, &rep);
        rc = rf_report_write_tables(out, &rep);
    }
    if (rc == RF_OK && strcmp(plot, "no") != 0) {
        rc = rf_report_plot(out, &rep);
        if (rc == RF_REPORT_NO_GNUPLOT && !strcmp(plot, "yes")) {
            rc = rf_fail("--plot yes: gnuplot is not on PATH (Debian: apt-get install gnuplot-nox)");
        } else if (rc == RF_REPORT_NO_GNUPLOT) {
            printf("(no gnuplot on PATH, so no report.png; Debian: apt-get install gnuplot-nox)\n");
            rc = RF_OK;
        } else if (rc == RF_OK) {
            printf("plot: %s/report.png (script: %s/report.gp)\n", out, out);
        }
    }
    if (rc == RF_OK) printf("tables: %s/report.csv, %s/report.md\n", out, out);
    rf_report_free(&rep);
    return rc;
}

int rf_cmd_report(int argc, char **argv) {
    const char *out = ".", *plot = "auto";
    const rf_opt opts[] = {
        {"--out", RF_OPT_STRING, &out, "DIR", "where report.csv, report.md, report.png and report.gp go"},
        {"--plot", RF_OPT_STRING, &plot, "auto|yes|no", "draw report.png with gnuplot: auto when gnuplot is on PATH"},
    };
    const int nopts = (int)(sizeof opts / sizeof opts[0]);
    char **flags = rf_calloc((size_t)argc + 1, sizeof *flags);
    char **dirs = rf_calloc((size_t)argc + 1, sizeof *dirs);
    int nflags, ndirs;
    split_args(argc, argv, flags, &nflags, dirs, &ndirs);
    int rc = rf_cli_parse(nflags, flags, "report", opts, nopts);
    if (rc == 1) print_help(opts, nopts);
    if (rc == RF_OK && strcmp(plot, "auto") && strcmp(plot, "yes") && strcmp(plot, "no"))
        rc = rf_fail("--plot '%s': expected auto, yes or no", plot);
    if (rc == RF_OK && ndirs == 0)
        rc = rf_fail("no run folders given (riverforge report DIR...; see --help)");
    if (rc == RF_OK) rc = make_report(dirs, ndirs, out, plot);
    free(dirs);
    free(flags);
    if (rc == 1) return RF_EXIT_OK;
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    return RF_EXIT_OK;
}
