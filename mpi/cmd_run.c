/* cmd_run.c -- `riverforge run`: the orchestration of a construction run over MPI ranks.
 *
 *   flags      every rank parses them (run_flags.h); bad input stops all ranks with one line
 *   lock       rank 0 locks OUT, then the others join the lock (shards/out_lock.h): one run per OUT
 *   prepare    every rank reads the safetensors headers and builds the same ordered task list
 *              (shards/tasks.h), checks the XTX file and the memory; rank 0 creates OUT and
 *              checks or writes its manifest (shards/manifest.h)
 *   resume     shards already in OUT/shards that verify against this run's configuration are
 *              kept (shards/resume.h); the ranks split the checking
 *   work       the driver (driver.h) hands the other tasks to the ranks, each runs its tasks
 *              (shards/task_exec.h) and commits one shard per task; rank 0 prints the progress
 *   finish     rank 0 writes summary.json/csv and, when every task is done, assembles
 *              checkpoint.h5 (shards/run_output.h); a stop signal ends the run with
 *              RF_EXIT_INTERRUPTED and a rerun resumes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "common/rf_simd.h"
#include "common/rf_version.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"
#include "mpi/commands.h"
#include "mpi/driver.h"
#include "mpi/rf_mpi.h"
#include "mpi/run_flags.h"
#include "mpi/threads.h"
#include "shards/manifest.h"
#include "shards/out_lock.h"
#include "shards/resume.h"
#include "shards/run_output.h"
#include "shards/task_exec.h"
#include "synth/synth.h"

typedef struct {
    int rank, nranks, threads, ranks_on_node;
    rf_run_flags f;
    rf_st_model model;
    rf_hf_config hf;   /* the model's config.json; model_type empty without one */
    rf_xtx_file *xtx;
    rf_task_list tasks;
    char *config_json;
    char model_dir[4096], xtx_path[4096]; /* the embedded default's */
} run_state;

/* The embedded default model lives in OUT/default-model; rank 0 writes it once. */
static int prepare_embedded_model(run_state *s) {
    snprintf(s->model_dir, sizeof s->model_dir, "%s/default-model", s->f.out);
    snprintf(s->xtx_path, sizeof s->xtx_path, "%.4000s/xtx.h5", s->model_dir);
    int rc = RF_OK;
    if (s->rank == 0) {
        char config[4200];
        snprintf(config, sizeof config, "%s/config.json", s->model_dir);
        rc = rf_make_dirs(s->f.out) != RF_OK ? rf_fail_prefix("--out: ") : RF_OK;
        if (rc == RF_OK && access(config, F_OK) != 0) {
            const rf_synth_spec spec = rf_synth_embedded();
            printf("riverforge: writing the embedded default model (synthetic Qwen3-shaped, %d layers, "
                   "hidden %d; vision tower of %d blocks, hidden %d) to %s\n",
                   spec.layers, spec.hidden, spec.vit_blocks, spec.vit_hidden, s->model_dir);
            rc = rf_synth_write(s->model_dir, &spec);
        }
    }
    s->f.model = s->model_dir;
    if (!s->f.xtx) s->f.xtx = s->xtx_path;
    return rf_mpi_agree(rc);
}

/* DIR/config.json when the model is a folder that has one: what the summary records of the
 * model, and its layer count, checked against the tensors. */
static int read_model_config(run_state *s) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", s->f.model);
    if (access(path, F_OK) != 0) return RF_OK;
    if (rf_hf_config_read(s->f.model, &s->hf) != RF_OK) return RF_ERR;
    return rf_tasks_check_layers(&s->model, &s->hf, path);
}

/* Every rank: model headers and config.json, task list, the XTX file (probed by rank 0 first,
 * every needed shape checked), memory; rank 0: the output folders and the manifest that keeps
 * shards of another model, XTX content or configuration out. */
static int prepare(run_state *s) {
    int rc = rf_st_open(&s->model, s->f.model);
    if (rc == RF_OK) rc = read_model_config(s);
    if (rc == RF_OK &&
        rf_tasks_build(&s->model, s->f.only, &s->f.cfg, &s->f.vit, s->f.seed, &s->tasks) != RF_OK)
        rc = rf_cli_flag_error(s->f.opts, RF_RUN_NUM_OPTS);
    /* A user's file that could crash HDF5: rank 0 reads it in a child process first. */
    const int probe = rc == RF_OK && s->f.xtx && s->rank == 0 ? rf_xtx_probe(s->f.xtx) : rc;
    if (rf_mpi_agree(probe) != RF_OK) return RF_ERR;
    if (s->f.xtx) {
        rc = rf_xtx_open(&s->xtx, s->f.xtx);
        for (int i = 0; rc == RF_OK && i < s->tasks.n; i++) { /* shapes before any allocation */
            const rf_task *t = &s->tasks.tasks[i];
            if (t->kind == RF_TASK_AQLM && rf_xtx_check(s->xtx, t->name, t->in_features) != RF_OK)
                rc = rf_fail_prefix("--xtx ");
        }
    }
    if (rc == RF_OK)
        rc = rf_tasks_check_memory(&s->tasks, &s->f.cfg, &s->f.vit.gen, s->f.xtx != NULL,
                                   s->ranks_on_node, rf_node_memory_bytes());
    if (rc == RF_OK && s->rank == 0) rc = rf_run_make_dirs(s->f.out);
    if (rc == RF_OK && s->rank == 0) {
        char fingerprint[17], xtx_fingerprint[17];
        rf_model_fingerprint(&s->model, fingerprint);
        if (s->xtx && rf_xtx_fingerprint(s->xtx, xtx_fingerprint) != RF_OK)
            rc = rf_fail_prefix("--xtx ");
        if (rc == RF_OK)
            rc = rf_manifest_check_or_write(s->f.out, s->f.model, fingerprint, s->f.xtx,
                                            s->xtx ? xtx_fingerprint : NULL, s->config_json);
    }
    return rf_mpi_agree(rc);
}

static void open_rank_log(const run_state *s) {
    char path[4096];
    rf_run_log_path(s->f.out, s->rank, path, sizeof path);
    if (rf_log_open(path) != RF_OK) rf_warn("%s", rf_last_error());
    rf_log("riverforge %s run: model %s, %d tasks, %d ranks, %d threads per rank, SIMD path %s, "
           "config %s", RF_VERSION, s->f.model, s->tasks.n, s->nranks, s->threads,
           rf_simd_name(rf_simd_path()), s->config_json);
}

/* Shards verified before this run: done[i] on every rank; rank 0's outcome[] gets their stats
 * (rank -1) whichever rank verified them. Returns how many. */
static int find_done(const run_state *s, unsigned char *done, rf_task_outcome *outcome) {
    rf_results mine, all;
    rf_task_stats *stats = rf_calloc((size_t)s->tasks.n, sizeof *stats);
    rf_tasks_check_done(&s->tasks, s->f.out, s->config_json, s->rank, s->nranks, done, stats);
    rf_results_init(&mine, s->tasks.n, sizeof *stats);
    for (int i = 0; i < s->tasks.n; i++)
        if (done[i]) rf_results_add(&mine, i, -1, &stats[i]);
    free(stats);
    rf_results_gather(&mine, &all);
    rf_results_free(&mine);
    for (int k = 0; k < all.n; k++)
        outcome[all.task[k]] = (rf_task_outcome){.rank = all.rank[k],
                                                 .stats = *(rf_task_stats *)rf_result_at(&all, k)};
    rf_results_free(&all);
    rf_mpi_or_flags(done, s->tasks.n);
    int n = 0;
    for (int i = 0; i < s->tasks.n; i++) n += done[i];
    return n;
}

/* rf_task_fn for the driver. */
static int execute_task(void *ctx, int task, void *result, rf_progress_fn progress,
                        void *progress_ctx) {
    const run_state *s = ctx;
    const rf_task_context c = {.model = &s->model, .xtx = s->xtx, .xtx_path = s->f.xtx,
                               .aqlm = &s->f.cfg, .gen = &s->f.vit.gen, .out_dir = s->f.out,
                               .config_json = s->config_json};
    return rf_task_execute(&c, &s->tasks.tasks[task], result, progress, progress_ctx);
}

static void print_start(const run_state *s, int resumed) {
    printf("riverforge %s: %d matrices of %s%s%s%s on %d ranks x %d threads, %s; %s\n",
           RF_VERSION, s->tasks.n, s->f.model, s->hf.model_type[0] ? " (" : "",
           s->hf.model_type, s->hf.model_type[0] ? ")" : "", s->nranks, s->threads, s->config_json,
           s->f.xtx ? "objective tr(dW XTX dW^T) from --xtx"
                    : "no --xtx: objective is the plain weight MSE (XTX = I)");
    if (resumed)
        printf("riverforge: resuming: %d of %d shards already done in %s/shards\n", resumed,
               s->tasks.n, s->f.out);
    fflush(stdout);
}

/* Runs the tasks not done; rank 0 finishes. Returns the run's status on every rank: RF_OK,
 * RF_ERR (rank 0 recorded why), or RF_EXIT_INTERRUPTED. */
static int work_and_finish(run_state *s, double start) {
    const int n = s->tasks.n;
    unsigned char *done = rf_calloc((size_t)n, 1);
    rf_task_outcome *outcome = rf_calloc((size_t)n, sizeof *outcome);
    for (int i = 0; i < n; i++) outcome[i].rank = -2;
    const int resumed = find_done(s, done, outcome);
    if (s->rank == 0) print_start(s, resumed);

    double *cost = rf_calloc((size_t)n, sizeof *cost);
    int64_t *weights = rf_calloc((size_t)n, sizeof *weights);
    for (int i = 0; i < n; i++) {
        cost[i] = s->tasks.tasks[i].cost;
        weights[i] = s->tasks.tasks[i].out_features * s->tasks.tasks[i].in_features;
    }
    const rf_work work = {.ntasks = n, .cost = cost, .weights = weights, .skip = done,
                          .result_size = sizeof(rf_task_stats), .execute = execute_task, .ctx = s,
                          .progress_interval = s->f.progress_interval};
    rf_results computed;
    rf_work_run(&work, &computed);
    int rc = RF_OK;
    if (s->rank == 0) {
        for (int k = 0; k < computed.n; k++)
            outcome[computed.task[k]] = (rf_task_outcome){
                .rank = computed.rank[k], .stats = *(rf_task_stats *)rf_result_at(&computed, k)};
        const rf_run_info info = {.version = RF_VERSION, .model = s->f.model, .xtx = s->f.xtx,
                                  .out = s->f.out, .config_json = s->config_json,
                                  .model_type = s->hf.model_type[0] ? s->hf.model_type : NULL,
                                  .architecture = s->hf.architecture[0] ? s->hf.architecture : NULL,
                                  .method = rf_gen_kind_name(s->f.vit.gen.kind),
                                  .ranks = s->nranks, .omp_threads = s->threads,
                                  .seconds = rf_now() - start};
        int complete = 0;
        rc = rf_run_finish(&info, &s->tasks, outcome, &complete);
        if (rc == RF_OK && !complete) rc = RF_EXIT_INTERRUPTED;
    }
    rf_results_free(&computed);
    free(weights);
    free(cost);
    free(outcome);
    free(done);
    return rf_mpi_bcast_int(rc); /* rank 0's verdict is the job's */
}

int rf_cmd_run(int argc, char **argv) {
    run_state s = {0};
    rf_mpi_setup(&s.rank, &s.nranks);
    rf_driver_catch_signals();
    const double start = rf_now();
    int rc = rf_run_flags_parse(argc, argv, s.rank, &s.f);
    if (rc == 1) return RF_EXIT_OK;
    if (rf_mpi_agree(rc) != RF_OK) return RF_EXIT_USAGE;
    s.ranks_on_node = rf_mpi_ranks_on_node();
    s.threads = rf_choose_threads(s.rank, s.ranks_on_node);
    /* One run at a time on OUT, before anything is written there: rank 0 first, then the others
     * (shards/out_lock.h); every rank holds it until it exits. */
    if (rf_mpi_agree(s.rank == 0 ? rf_out_lock_take(s.f.out, s.nranks) : RF_OK) != RF_OK ||
        rf_mpi_agree(s.rank == 0 ? RF_OK : rf_out_lock_join(s.f.out)) != RF_OK)
        return RF_EXIT_USAGE;
    if (s.f.embedded && prepare_embedded_model(&s) != RF_OK) return RF_EXIT_USAGE;
    s.config_json = rf_run_config_json(&s.f.cfg, &s.f.vit, s.f.seed, s.f.xtx);
    if (prepare(&s) != RF_OK) return RF_EXIT_USAGE;
    open_rank_log(&s);
    rc = work_and_finish(&s, start);
    if (rc == RF_ERR && s.rank == 0) fprintf(stderr, "riverforge: error: %s\n", rf_last_error());

    free(s.config_json);
    rf_tasks_free(&s.tasks);
    if (s.xtx) rf_xtx_close(s.xtx);
    rf_st_close(&s.model);
    rf_log_close();
    return rc == RF_OK ? RF_EXIT_OK : rc == RF_ERR ? RF_EXIT_USAGE : rc;
}
