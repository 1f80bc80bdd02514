/* report_plot.h -- the report's plot: mean rel_act_err against bits per weight, one labelled point
 * per run, the Pareto front drawn as a line, as OUT/report.png through gnuplot (Debian:
 * gnuplot-nox). OUT/report.gp keeps the gnuplot script with the data in it, so that
 * `gnuplot report.gp` redraws the plot (to restyle it). */
#ifndef RF_REPORT_PLOT_H
#define RF_REPORT_PLOT_H

#include "report/report.h"

#define RF_REPORT_NO_GNUPLOT 1 /* rf_report_plot: gnuplot is not on PATH, nothing written */

/* The gnuplot script: it draws into the file the gnuplot variable png names (default
 * "report.png"). malloc'd. */
char *rf_report_gnuplot_script(const rf_report *rep);

/* Writes OUT/report.gp and runs gnuplot in OUT on it; the PNG appears atomically (gnuplot draws
 * report.png.tmp, committed as report.png). Returns RF_OK, RF_REPORT_NO_GNUPLOT, or RF_ERR with a
 * line naming the file (gnuplot failed: its own messages are on stderr). */
int rf_report_plot(const char *out_dir, const rf_report *rep);

#endif
