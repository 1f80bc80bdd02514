/* report_tables.h -- a report (report.h) as text: the table of runs (one row per configuration,
 * the Pareto front marked) and the per-projection table (mean rel_act_err of q_proj ... down_proj
 * per configuration), for the terminal, as OUT/report.md, and as OUT/report.csv (one row per run,
 * every column of both tables and the whole configuration). */
#ifndef RF_REPORT_TABLES_H
#define RF_REPORT_TABLES_H

#include <stdio.h>

#include "report/report.h"

/* Both tables, aligned for a terminal, and a line per caveat (incomplete runs, other models). */
void rf_report_print(FILE *f, const rf_report *rep);
/* OUT/report.csv and OUT/report.md, each written atomically. RF_ERR naming the file. */
int rf_report_write_tables(const char *out_dir, const rf_report *rep);

#endif
