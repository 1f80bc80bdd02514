/* run_output.c -- see run_output.h. */
#include "shards/run_output.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/summary.h"

int rf_run_make_dirs(const char *out) {
    char path[4096];
    if (rf_make_dirs(out) != RF_OK) return rf_fail_prefix("--out: ");
    snprintf(path, sizeof path, "%s/shards", out);
    if (rf_make_dirs(path) != RF_OK) return RF_ERR;
    snprintf(path, sizeof path, "%s/logs", out);
    return rf_make_dirs(path);
}

void rf_run_log_path(const char *out, int rank, char *path, size_t len) {
    snprintf(path, len, "%s/logs/rank-%d.log", out, rank);
}

int rf_run_finish(const rf_run_info *info, const rf_task_list *tasks,
                  const rf_task_outcome *outcome, int *complete) {
    const int ntasks = tasks->n;
    rf_summary_row *rows = rf_calloc((size_t)ntasks, sizeof *rows);
    char **paths = rf_calloc((size_t)ntasks, sizeof *paths);
    const char **names = rf_calloc((size_t)ntasks, sizeof *names);
    rf_record_kind *kinds = rf_calloc((size_t)ntasks, sizeof *kinds);
    int n = 0;
    for (int i = 0; i < ntasks; i++) {
        const rf_task *t = &tasks->tasks[i];
        if (outcome[i].rank == -2) continue;
        rows[n] = (rf_summary_row){.name = t->name, .out_features = t->out_features,
                                   .in_features = t->in_features, .vit = t->kind == RF_TASK_VIT,
                                   .stats = outcome[i].stats.aqlm, .gen = outcome[i].stats.vit,
                                   .method = info->method, .shared_from = t->shared_name,
                                   .rank = outcome[i].rank};
        kinds[n] = t->kind == RF_TASK_VIT ? RF_RECORD_VIT : RF_RECORD_MATRIX;
        paths[n] = rf_malloc(4096);
        rf_task_shard_path(info->out, t, paths[n], 4096);
        names[n++] = t->name;
    }
    *complete = n == ntasks;
    rf_summary sum = {.version = info->version, .model = info->model,
                      .model_type = info->model_type, .architecture = info->architecture,
                      .xtx = info->xtx, .out = info->out, .config_json = info->config_json,
                      .ranks = info->ranks, .omp_threads = info->omp_threads,
                      .seconds = info->seconds, .complete = *complete, .tasks_total = ntasks,
                      .n = n, .rows = rows};
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", info->out);
    /* The summary is written after the assembly, so that it says whether the checkpoint exists;
     * the checkpoint's provenance is the summary of the run it completes. */
    int assembly = RF_OK;
    if (*complete) {
        char *provenance = rf_summary_json(&sum);
        assembly = rf_checkpoint_assemble(ckpt, info->config_json, provenance, n,
                                          (const char *const *)paths, names, kinds);
        free(provenance);
        if (assembly != RF_OK) rf_log("assembly failed: %s", rf_last_error());
    }
    int rc = rf_summary_write_run(info->out, &sum, assembly);
    if (rc == RF_OK && *complete) {
        rf_summary_print_tables(stdout, rows, n);
        printf("\nriverforge: %d matrices in %.1f s on %d ranks; checkpoint %s\n", n,
               info->seconds, info->ranks, ckpt);
        rf_log("assembled %s", ckpt);
    } else if (rc == RF_OK) {
        printf("riverforge: interrupted: %d of %d matrices done (shards in %s/shards); rerun with "
               "the same --out to resume\n", n, ntasks, info->out);
        rf_log("interrupted with %d of %d tasks done", n, ntasks);
    }
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(names);
    free(kinds);
    free(rows);
    return rc;
}
