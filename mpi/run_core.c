/* run_core.c -- see run_core.h. The steps, on every rank unless said:
 *
 *   prepare  run_prepare.c (run_state.h)
 *   resume   shards that verify against their configuration are kept (shards/resume.h); the
 *            ranks split the checking
 *   work     the driver (driver.h) runs the queue of (configuration, task) pairs not done; each
 *            task commits one shard into its configuration's folder (shards/task_exec.h)
 *   finish   rank 0, per configuration: summary.json/csv and, when its tasks are all done,
 *            checkpoint.h5 (shards/run_output.h)
 *   eval     with --eval-tokens, once every checkpoint is assembled: the perplexities into the
 *            summaries (run_eval.h); figures an earlier run recorded for an unchanged checkpoint
 *            are kept
 */
#include "mpi/run_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "common/rf_simd.h"
#include "common/rf_version.h"
#include "mpi/driver.h"
#include "mpi/rf_mpi.h"
#include "mpi/run_state.h"
#include "mpi/threads.h"
#include "shards/resume.h"
#include "shards/run_output.h"
#include "shards/task_exec.h"

typedef struct {
    double cost;
    int config, task;
} queue_entry;

/* Largest predicted cost first; ties in configuration order, then the configuration's order. */
static int by_cost(const void *a, const void *b) {
    const queue_entry *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    if (x->config != y->config) return x->config - y->config;
    return x->task - y->task;
}

static void make_queue(core_state *s) {
    for (int k = 0; k < s->sp->nconfigs; k++) s->ntasks += s->cs[k].tasks.n;
    queue_entry *q = rf_calloc((size_t)s->ntasks, sizeof *q);
    int n = 0;
    for (int k = 0; k < s->sp->nconfigs; k++)
        for (int t = 0; t < s->cs[k].tasks.n; t++)
            q[n++] = (queue_entry){.cost = s->cs[k].tasks.tasks[t].cost, .config = k, .task = t};
    qsort(q, (size_t)n, sizeof *q, by_cost);
    s->qconfig = rf_calloc((size_t)n, sizeof *s->qconfig);
    s->qtask = rf_calloc((size_t)n, sizeof *s->qtask);
    for (int k = 0; k < s->sp->nconfigs; k++)
        s->cs[k].pos = rf_calloc((size_t)s->cs[k].tasks.n, sizeof *s->cs[k].pos);
    for (int p = 0; p < n; p++) {
        s->qconfig[p] = q[p].config;
        s->qtask[p] = q[p].task;
        s->cs[q[p].config].pos[q[p].task] = p;
    }
    free(q);
}

static const rf_task *queue_task(const core_state *s, int p) {
    return &s->cs[s->qconfig[p]].tasks.tasks[s->qtask[p]];
}

static void open_rank_log(const core_state *s) {
    char path[4096];
    rf_run_log_path(s->sp->out, s->rank, path, sizeof path);
    if (rf_log_open(path) != RF_OK) rf_warn("%s", rf_last_error());
    rf_log("riverforge %s run: model %s, %d tasks, %d ranks, %d threads per rank, SIMD path %s",
           RF_VERSION, s->sp->model, s->ntasks, s->nranks, s->threads,
           rf_simd_name(rf_simd_path()));
    for (int k = 0; k < s->sp->nconfigs; k++)
        rf_log("configuration %s: %d tasks into %s, config %s", s->cs[k].c->name,
               s->cs[k].tasks.n, s->cs[k].c->out, s->cs[k].config_json);
}

/* Shards verified before this run: done[p] on every rank; rank 0's outcome[p] gets their stats
 * (rank -1) whichever rank verified them. Returns how many. */
static int find_done(const core_state *s, unsigned char *done, rf_task_outcome *outcome) {
    rf_results mine, all;
    rf_results_init(&mine, s->ntasks, sizeof(rf_task_stats));
    for (int k = 0; k < s->sp->nconfigs; k++) {
        const config_state *cs = &s->cs[k];
        unsigned char *d = rf_calloc((size_t)cs->tasks.n, 1);
        rf_task_stats *stats = rf_calloc((size_t)cs->tasks.n, sizeof *stats);
        rf_tasks_check_done(&cs->tasks, cs->c->out, cs->config_json, s->rank, s->nranks, d, stats);
        for (int t = 0; t < cs->tasks.n; t++)
            if (d[t]) {
                done[cs->pos[t]] = 1;
                rf_results_add(&mine, cs->pos[t], -1, &stats[t]);
            }
        free(stats);
        free(d);
    }
    rf_results_gather(&mine, &all);
    rf_results_free(&mine);
    for (int k = 0; k < all.n; k++)
        outcome[all.task[k]] = (rf_task_outcome){.rank = all.rank[k],
                                                 .stats = *(rf_task_stats *)rf_result_at(&all, k)};
    rf_results_free(&all);
    rf_mpi_or_flags(done, s->ntasks);
    int n = 0;
    for (int p = 0; p < s->ntasks; p++) n += done[p];
    return n;
}

/* rf_task_fn for the driver: queue position p. */
static int execute_task(void *ctx, int p, void *result, rf_progress_fn progress,
                        void *progress_ctx) {
    const core_state *s = ctx;
    const config_state *cs = &s->cs[s->qconfig[p]];
    const rf_task_context c = {.model = &s->model, .xtx = s->xtx, .xtx_path = s->sp->xtx,
                               .aqlm = &cs->task_cfg[s->qtask[p]], .gen = &s->sp->vit->gen,
                               .out_dir = cs->c->out, .config_json = cs->config_json};
    if (cs->c->name[0]) /* the task's own lines name only its matrix */
        rf_log("configuration %s: task %s", cs->c->name, queue_task(s, p)->name);
    return rf_task_execute(&c, queue_task(s, p), result, progress, progress_ctx);
}

static void print_start(const core_state *s, int resumed) {
    const rf_run_spec *sp = s->sp;
    const char *type = s->hf.model_type;
    printf("riverforge %s: %d matrices of %s%s%s%s on %d ranks x %d threads, ", RF_VERSION,
           s->ntasks, sp->model, type[0] ? " (" : "", type, type[0] ? ")" : "", s->nranks,
           s->threads);
    if (sp->nconfigs == 1)
        printf("%s; ", s->cs[0].config_json);
    else
        printf("%d configurations of %d each into %s/NAME; ", sp->nconfigs, s->cs[0].tasks.n,
               sp->out);
    printf("%s\n", sp->xtx ? "objective tr(dW XTX dW^T) from --xtx"
                           : "no --xtx: objective is the plain weight MSE (XTX = I)");
    if (resumed)
        printf("riverforge: resuming: %d of %d shards already done in %s\n", resumed, s->ntasks,
               sp->nconfigs == 1 ? s->cs[0].c->out : "the configurations' folders");
    fflush(stdout);
}

/* Rank 0: each configuration's summary and, when complete, its checkpoint. Returns RF_OK,
 * RF_ERR (a file could not be written), or RF_EXIT_INTERRUPTED (some task is not done). */
static int finish(const core_state *s, const rf_task_outcome *outcome, double start) {
    const rf_run_spec *sp = s->sp;
    int rc = RF_OK, all_complete = 1;
    for (int k = 0; k < sp->nconfigs && rc == RF_OK; k++) {
        const config_state *cs = &s->cs[k];
        rf_task_outcome *mine = rf_calloc((size_t)cs->tasks.n, sizeof *mine);
        for (int t = 0; t < cs->tasks.n; t++) mine[t] = outcome[cs->pos[t]];
        const rf_run_info info = {.version = RF_VERSION, .model = sp->model, .xtx = sp->xtx,
                                  .out = cs->c->out, .config_json = cs->config_json,
                                  .model_type = s->hf.model_type[0] ? s->hf.model_type : NULL,
                                  .architecture = s->hf.architecture[0] ? s->hf.architecture : NULL,
                                  .method = rf_gen_kind_name(sp->vit->gen.kind),
                                  .ranks = s->nranks, .omp_threads = s->threads,
                                  .seconds = rf_now() - start};
        if (cs->c->name[0]) printf("\nconfiguration %s (%s):\n", cs->c->name, cs->c->out);
        int complete = 0;
        rc = rf_run_finish(&info, &cs->tasks, mine, &complete);
        all_complete &= complete;
        free(mine);
    }
    return rc == RF_OK && !all_complete ? RF_EXIT_INTERRUPTED : rc;
}

/* Runs the tasks not done; rank 0 finishes; the perplexities when asked. Returns the run's status
 * on every rank: RF_OK, RF_ERR (rank 0 recorded why), RF_EXIT_INTERRUPTED, or RF_EXIT_USAGE (the
 * evaluation failed; its line is printed). */
static int work_and_finish(core_state *s, double start) {
    const int n = s->ntasks;
    unsigned char *done = rf_calloc((size_t)n, 1);
    rf_task_outcome *outcome = rf_calloc((size_t)n, sizeof *outcome);
    for (int p = 0; p < n; p++) outcome[p].rank = -2;
    const int resumed = find_done(s, done, outcome);
    if (s->rank == 0) print_start(s, resumed);

    double *cost = rf_calloc((size_t)n, sizeof *cost);
    int64_t *weights = rf_calloc((size_t)n, sizeof *weights);
    for (int p = 0; p < n; p++) {
        cost[p] = queue_task(s, p)->cost;
        weights[p] = queue_task(s, p)->out_features * queue_task(s, p)->in_features;
    }
    const rf_work work = {.ntasks = n, .cost = cost, .weights = weights, .skip = done,
                          .result_size = sizeof(rf_task_stats), .execute = execute_task, .ctx = s,
                          .progress_interval = s->sp->progress_interval};
    rf_results computed;
    rf_work_run(&work, &computed);
    const int K = s->sp->nconfigs;
    int *kept = rf_calloc((size_t)K, sizeof *kept);
    rf_summary_eval *got = rf_calloc((size_t)K, sizeof *got);
    int rc = RF_OK;
    if (s->rank == 0) {
        int *computed_now = rf_calloc((size_t)K, sizeof *computed_now);
        for (int k = 0; k < computed.n; k++) {
            outcome[computed.task[k]] = (rf_task_outcome){
                .rank = computed.rank[k], .stats = *(rf_task_stats *)rf_result_at(&computed, k)};
            computed_now[s->qconfig[computed.task[k]]] = 1;
        }
        /* read before finish rewrites the summaries */
        for (int k = 0; k < K && s->eval.flags; k++)
            kept[k] = rf_run_eval_kept(&s->eval, s->cs[k].c->out, computed_now[k], &got[k]);
        free(computed_now);
        rc = finish(s, outcome, start);
    }
    rf_results_free(&computed);
    free(weights);
    free(cost);
    free(outcome);
    free(done);
    rc = rf_mpi_bcast_int(rc); /* rank 0's verdict is the job's */
    if (rc == RF_OK && s->eval.flags) {
        const char **outs = rf_calloc((size_t)K, sizeof *outs);
        const char **names = rf_calloc((size_t)K, sizeof *names);
        for (int k = 0; k < K; k++) outs[k] = s->cs[k].c->out, names[k] = s->cs[k].c->name;
        if (rf_run_eval_finish(&s->eval, K, outs, names, kept, got) != RF_OK)
            rc = RF_EXIT_USAGE; /* its line is printed */
        free(outs), free(names);
    }
    free(got);
    free(kept);
    return rc;
}

static void core_free(core_state *s) {
    for (int k = 0; k < s->sp->nconfigs; k++) {
        free(s->cs[k].config_json);
        free(s->cs[k].task_cfg);
        free(s->cs[k].pos);
        rf_tasks_free(&s->cs[k].tasks);
    }
    free(s->cs);
    free(s->qconfig);
    free(s->qtask);
    if (s->xtx) rf_xtx_close(s->xtx);
    if (s->eval.flags) rf_run_eval_close(&s->eval);
    rf_st_close(&s->model);
}

int rf_run_core(const rf_run_spec *sp, double start) {
    core_state s = {.sp = sp};
    rf_mpi_setup(&s.rank, &s.nranks);
    s.ranks_on_node = rf_mpi_ranks_on_node();
    s.threads = rf_choose_threads(s.rank, s.ranks_on_node);
    s.cs = rf_calloc((size_t)sp->nconfigs, sizeof *s.cs);
    for (int k = 0; k < sp->nconfigs; k++) s.cs[k].c = &sp->configs[k];
    int rc = rf_run_prepare(&s);
    if (rc == RF_OK) {
        make_queue(&s);
        open_rank_log(&s);
        rc = work_and_finish(&s, start);
        if (rc == RF_ERR && s.rank == 0)
            fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        rf_log_close();
    }
    core_free(&s);
    return rc == RF_OK ? RF_EXIT_OK : rc == RF_ERR ? RF_EXIT_USAGE : rc;
}
