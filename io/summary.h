/* summary.h -- a run's results as OUT/summary.json and OUT/summary.csv, and the provenance JSON
 * stored in checkpoint.h5 (the same document).
 *
 * summary.json: {"riverforge_version", "model", "model_type", "architecture", "xtx", "out",
 *                "ranks", "omp_threads",
 *                "seconds", "complete", "tasks_total", "config": {...}, "totals": {...},
 *                "tasks": [{row}, ...]}
 * Rows have "kind": "aqlm" (a quantized matrix) or "vit" (a generated shared-block matrix, with
 * its method, shared_from, rel_w_err, shared_rel_w_err, baseline_rel_w_err, beats_baseline,
 * params, ...); with vit rows, "totals" has a "vit" object summing them.
 * A run with --eval-tokens adds, once checkpoint.h5 is assembled (rf_summary_add_eval):
 * "perplexity" (quantized), "dense_perplexity", "perplexity_ratio", "eval_tokens" (the file),
 * "eval_seqlen", "eval_sequences", "eval_predicted_tokens".
 * "complete" is true only when every task is done and checkpoint.h5 was assembled: an interrupted
 * run writes the tasks done so far with "complete": false, and a run whose assembly failed says
 * false with "assembly_error", the reason (the key is absent otherwise).
 * summary.csv:  one header line, then one line per task: the AQLM columns first (empty for vit
 * rows where they do not apply), then kind and the vit columns (empty for aqlm rows). */
#ifndef RF_SUMMARY_H
#define RF_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "kernels/aqlm/aqlm.h"
#include "kernels/vitgen/vitgen.h"

typedef struct {
    const char *name;
    int64_t out_features, in_features;
    int vit;                 /* 0: an AQLM matrix (stats); 1: a generated ViT matrix (gen) */
    rf_aqlm_stats stats;
    rf_gen_stats gen;
    const char *method;      /* vit: the generator */
    const char *shared_from; /* vit: block A's matrix */
    int rank;      /* who computed it; -1 when resumed from an earlier run's shard */
} rf_summary_row;

typedef struct {
    const char *version, *model, *xtx, *out, *config_json;
    const char *model_type, *architecture; /* from the model's config.json; NULL without one */
    int ranks, omp_threads;
    double seconds;
    int complete;        /* every task of the run is done and checkpoint.h5 assembled */
    const char *assembly_error; /* why checkpoint.h5 could not be assembled, or NULL */
    int tasks_total;
    int n;
    const rf_summary_row *rows;
} rf_summary;

/* Over the vit rows: means, and how many beat plain sharing and the classical baseline. */
typedef struct {
    int n, beats_sharing, beats_baseline;
    double mean_rel_w_err, mean_shared_rel_w_err, mean_baseline_rel_w_err, task_seconds;
} rf_vit_totals;
rf_vit_totals rf_summary_vit_totals(const rf_summary_row *rows, int n);

/* malloc'd JSON text of the summary (compact). */
char *rf_summary_json(const rf_summary *s);
/* OUT/summary.json and OUT/summary.csv, each written atomically. */
int rf_summary_write(const char *out_dir, const rf_summary *s);
/* rf_summary_write for a run whose checkpoint assembly returned assembly_status, so that the
 * summary says what is on disk: on RF_ERR (the reason in rf_last_error()) s says "complete" false
 * with that reason as "assembly_error", and the result is RF_ERR with the reason recorded again;
 * when the summary cannot be written either, both reasons, and an earlier summary.json is
 * removed. */
int rf_summary_write_run(const char *out_dir, rf_summary *s, int assembly_status);

/* The perplexity of a run's checkpoint on a token file (mpi/run_eval.h). */
typedef struct {
    const char *tokens;            /* the token file */
    int seqlen;
    int64_t sequences, predicted;  /* windows evaluated; positions predicted */
    double perplexity, dense_perplexity;
} rf_summary_eval;

/* Adds e's fields to OUT/summary.json (rewritten atomically). RF_ERR naming the file. */
int rf_summary_add_eval(const char *out_dir, const rf_summary_eval *e);
/* Whether OUT/summary.json is complete and records figures for the same token file, seqlen and
 * sequences as want: then *got gets them (got->tokens points into want) and 1 is returned. */
int rf_summary_find_eval(const char *out_dir, const rf_summary_eval *want, rf_summary_eval *got);

/* The tables a finished run prints: the AQLM matrices, one line per projection kind (q_proj, ...,
 * down_proj) and shape in first-seen order, and a total; then the generated ViT matrices, one
 * line each, and how many beat plain sharing and the classical baseline. A table without rows is
 * not printed. */
void rf_summary_print_tables(FILE *f, const rf_summary_row *rows, int n);

#endif
