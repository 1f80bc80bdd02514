/* report.h -- runs' results side by side: reads OUT/summary.json of every run folder given (or
 * found one level below a folder of runs, as sweep-array.sbatch's OUT/config-i), reduces each to
 * one row, names it after its configuration and marks the Pareto front of bits per weight against
 * mean rel_act_err.
 *
 * Per run, over its AQLM matrices (the summary's "tasks" of kind "aqlm"; generated ViT matrices
 * are not quantized and are left out):
 *   bits_per_weight   sum(w_i * bits_i) / sum(w_i), w_i = out*in: each matrix's bits per weight
 *                     already counts its codes, codebooks and scales (docs/formats.md), so the
 *                     mean is the whole run's storage per weight (the summary's totals agree)
 *   rel_act_err       mean and max over the matrices; rel_w_err: mean
 *   per kind          mean rel_act_err of each projection kind (q_proj ... down_proj)
 *   perplexity        the summary's top-level "perplexity" when the run recorded one, else NAN
 *   seconds           the run's wall time; task_seconds: all its tasks' seconds summed (the same
 *                     for any rank count)
 * No MPI, no CLI: mpi/cmd_report.c prints and writes what this builds (report_tables.h,
 * report_plot.h).
 */
#ifndef RF_REPORT_H
#define RF_REPORT_H

#include "kernels/aqlm/aqlm.h"
#include "shards/sweep_grid.h"

#define RF_REPORT_NUM_KINDS 7
/* "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" */
extern const char *const rf_report_kinds[RF_REPORT_NUM_KINDS];

typedef struct {
    char dir[4096];                 /* the run folder, as found */
    char name[RF_SWEEP_NAME_LEN];   /* rf_sweep_name of its configuration */
    char *model;                    /* the summary's "model" */
    rf_aqlm_config cfg;             /* the summary's "config" */
    int complete;                   /* every task of the run was done */
    int matrices;
    double weights, bits_per_weight;
    double mean_rel_act_err, max_rel_act_err, mean_rel_w_err;
    double perplexity;              /* NAN: not recorded */
    double seconds, task_seconds;
    double kind_rel_act_err[RF_REPORT_NUM_KINDS]; /* NAN: the run has no matrix of that kind */
    int pareto;                     /* on the front (complete runs only) */
} rf_report_run;

typedef struct {
    int n;
    rf_report_run *runs; /* by bits per weight, then mean rel_act_err */
    int same_model;      /* every run quantized the same model */
} rf_report;

/* DIR/summary.json into r (r->name is set by rf_report_collect). RF_ERR with one line naming the
 * file and what is wrong: not JSON, a missing or mistyped field (naming the task), a run without
 * quantized matrices. */
int rf_report_read_run(const char *dir, rf_report_run *r);

/* The runs of dirs[0..ndirs): a folder with summary.json is a run; otherwise its subfolders that
 * have one are (in natural order: config-2 before config-10; a subfolder with a manifest.json
 * and no summary.json yet is left out with a warning). Names them (rf_sweep_name showing
 * the settings in which they differ), marks the front, sorts. RF_ERR naming the folder that holds
 * no run, or the run that cannot be read. */
int rf_report_collect(int ndirs, char *const *dirs, rf_report *rep);
void rf_report_free(rf_report *rep);

#endif
