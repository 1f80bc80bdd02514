/* cmd_run.c -- `riverforge run`: the MPI driver of a quantization run (DESIGN.md section 2).
 *
 *   prepare    every rank reads the safetensors headers and builds the same ordered task list;
 *              bad input stops all ranks with one line before any work starts
 *   resume     shards already in OUT/shards that verify against this run's config are skipped
 *   work       ranks take task indices from the shared counter (work_queue.h), quantize, and
 *              commit one shard per task atomically; rank 0 also prints the progress line
 *   gather     fixed-size per-task results go to rank 0 (MPI_Gatherv)
 *   assemble   rank 0 writes summary.json/csv and assembles checkpoint.h5 from the shards
 *
 * SIGUSR1/SIGTERM (Slurm's --signal, preemption) on any rank stops the taking of tasks on all
 * ranks (work_queue_stop); a task in flight is dropped at its next phase boundary (an epoch),
 * never half-written. Rank 0 then writes the
 * summary of what is done and the run exits with RF_EXIT_INTERRUPTED; a rerun resumes.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <signal.h>
#include <omp.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "common/rf_version.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/matrix_record.h"
#include "io/safetensors.h"
#include "io/summary.h"
#include "io/vit_record.h"
#include "io/xtx_file.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "mpi/progress.h"
#include "mpi/rf_mpi.h"
#include "mpi/work_queue.h"
#include "shards/manifest.h"
#include "shards/resume.h"
#include "shards/tasks.h"
#include "synth/synth.h"

typedef struct {
    const char *model, *out, *xtx, *only, *device;
    rf_aqlm_config cfg;
    rf_cli_vit vit_flags;
    rf_vit_share vit;
    uint64_t seed;
    double progress_interval;
    int embedded;
} run_args;

/* One finished task, as gathered to rank 0 (fixed size: sent as bytes). */
typedef struct {
    int32_t task;
    int32_t rank;
    rf_task_stats stats;
} task_result;

typedef struct {
    int rank, nranks, omp_threads;
    int ranks_on_node; /* ranks sharing this rank's node: they share its cores and memory */
    run_args a;
    rf_st_model model;
    rf_xtx_file *xtx;
    rf_task_list tasks;
    char *config_json;
    unsigned char *done;  /* [tasks.n] shards verified before this run started */
    rf_work_queue queue;
    rf_progress progress;
    const rf_task *current;  /* the task this rank computes */
    double inflight_mflop;   /* rank 0: the done part of its own task in flight */
} run_state;

static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int sig) { stop_signal = sig; }

static void catch_stop_signals(void) {
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The embedded model's vision tower (4 blocks) and the sharing its run does by default. */
#define EMBEDDED_VIT_SHARE "2:3"

rf_aqlm_config rf_embedded_default_config(void) {
    rf_aqlm_config c = rf_aqlm_config_default();
    c.num_codebooks = 2;
    c.nbits_per_codebook = 8;
    c.max_epochs = 10;
    c.steps_per_epoch = 20;
    c.init_max_iter = 20;
    return c;
}

static int parse_args(int argc, char **argv, run_args *a, int rank) {
    /* --help lists AQLM's defaults, the ones a run with --model gets */
    a->embedded = !rf_cli_has(argc, argv, "--model") && !rf_cli_has(argc, argv, "--help") &&
                  !rf_cli_has(argc, argv, "-h");
    a->cfg = a->embedded ? rf_embedded_default_config() : rf_aqlm_config_default();
    a->out = "riverforge-out";
    a->device = "cpu";
    a->progress_interval = 10;
    rf_opt opts[7 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS] = {
        {"--model", RF_OPT_STRING, &a->model, "DIR", "Hugging Face model directory or .safetensors file (default: an embedded synthetic model)"},
        {"--out", RF_OPT_STRING, &a->out, "DIR", "output directory: shards/, checkpoint.h5, summary.json, summary.csv, logs/"},
        {"--xtx", RF_OPT_STRING, &a->xtx, "FILE.h5", "calibration statistics /xtx/NAME (without: plain weight MSE)"},
        {"--only", RF_OPT_STRING, &a->only, "REGEX", "quantize only the matrices whose name matches"},
        {"--device", RF_OPT_STRING, &a->device, "cpu|cuda", "where the kernels run"},
        {"--seed", RF_OPT_U64, &a->seed, "S", "run seed; each task's seed mixes it with the task name"},
        {"--progress-interval", RF_OPT_DOUBLE, &a->progress_interval, "SEC", "seconds between progress lines"},
    };
    rf_cli_aqlm_opts(&a->cfg, opts + 7);
    rf_cli_vit_opts(&a->vit_flags, argc, argv, opts + 7 + RF_AQLM_NUM_OPTS);
    if (a->embedded) a->vit_flags.share = EMBEDDED_VIT_SHARE;
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    int rc = rf_cli_parse(argc, argv, "run", opts, nopts);
    if (rc == 1) {
        if (rank == 0)
            rf_cli_help(stdout, "mpirun -np N riverforge run [--model DIR] [--out DIR] [flags]",
                        "Quantizes every linear matrix of the language model with AQLM over MPI ranks,\n"
                        "writes one shard per matrix under OUT/shards and assembles OUT/checkpoint.h5.\n"
                        "With --vit-share A:B, block B of the vision tower reuses block A's matrices\n"
                        "and a generator (qgp, paramgen, none) makes B's, committed under /vit/NAME.\n"
                        "A rerun with the same --out resumes: verified shards are kept.\n"
                        "Without --model: an embedded synthetic Qwen3-shaped model (2 layers, hidden 256)\n"
                        "with a quick 2x8 configuration (10 epochs x 20 steps), and a 4-block vision\n"
                        "tower whose block 3 reuses block 2's matrices (--vit-share " EMBEDDED_VIT_SHARE ").\n"
                        "Exit codes: 0 done, 1 internal error, 2 bad input, 3 interrupted.",
                        opts, nopts);
        return 1;
    }
    if (rc == RF_OK && strcmp(a->device, "cpu") != 0)
        rc = strcmp(a->device, "cuda") == 0
                 ? rf_fail("--device cuda: this build of riverforge has no CUDA kernels yet; use --device cpu")
                 : rf_fail("--device '%s': expected cpu or cuda", a->device);
    if (rc == RF_OK) rc = rf_cli_vit_finish(&a->vit_flags, &a->vit);
    if (rc == RF_OK && a->progress_interval <= 0)
        rc = rf_fail("--progress-interval must be positive");
    return rc;
}

/* Without OMP_NUM_THREADS, share the node's cores among the ranks on it, within the CPUs this
 * rank may run on. mpirun binds each rank to one core by default: more threads than that would
 * only take turns, so say so. */
static int choose_threads(int rank, int ranks_on_node) {
    cpu_set_t mask;
    int allowed = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : 1;
    if (!getenv("OMP_NUM_THREADS")) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int threads = (int)(cores / ranks_on_node > 0 ? cores / ranks_on_node : 1);
        omp_set_num_threads(threads < allowed ? threads : allowed);
    }
    int threads = omp_get_max_threads();
    if (threads > allowed && rank == 0)
        rf_warn("%d threads per rank but each rank is bound to %d CPU(s): use mpirun --bind-to none "
                "or --map-by slot:PE=%d (srun: --cpus-per-task=%d)", threads, allowed, threads, threads);
    openblas_set_num_threads(threads);
    return threads;
}

static int make_out_dirs(const char *out) {
    char path[4096];
    if (rf_make_dirs(out) != RF_OK) return rf_fail_prefix("--out: ");
    snprintf(path, sizeof path, "%s/shards", out);
    if (rf_make_dirs(path) != RF_OK) return RF_ERR;
    snprintf(path, sizeof path, "%s/logs", out);
    return rf_make_dirs(path);
}

/* The embedded default model lives in OUT/default-model; rank 0 writes it once. */
static int prepare_embedded_model(run_state *s, char *model_dir, char *xtx_path, size_t len) {
    snprintf(model_dir, len, "%s/default-model", s->a.out);
    snprintf(xtx_path, len, "%.4000s/xtx.h5", model_dir);
    int rc = RF_OK;
    if (s->rank == 0) {
        char config[4200];
        snprintf(config, sizeof config, "%s/config.json", model_dir);
        rc = rf_make_dirs(s->a.out);
        if (rc == RF_OK && access(config, F_OK) != 0) {
            rf_synth_spec spec = rf_synth_default();
            spec.vit_blocks = 4;
            spec.vit_hidden = 64;
            spec.vit_mlp = 256;
            printf("riverforge: writing the embedded default model (synthetic Qwen3-shaped, %d layers, "
                   "hidden %d; vision tower of %d blocks, hidden %d) to %s\n",
                   spec.layers, spec.hidden, spec.vit_blocks, spec.vit_hidden, model_dir);
            rc = rf_synth_write(model_dir, &spec);
        }
    }
    s->a.model = model_dir;
    if (!s->a.xtx) s->a.xtx = xtx_path;
    return rf_mpi_agree(rc);
}

/* A generator's state vectors grow as 2^n: refuse a VIT task that cannot fit when every rank on
 * the node runs one at once (80% of the node's memory), naming it, rather than die mid-run. */
static int check_vit_memory(const run_state *s, int ranks_on_node) {
    double have = 0.8 * (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < s->tasks.n; i++) {
        const rf_task *t = &s->tasks.tasks[i];
        if (t->kind != RF_TASK_VIT) continue;
        double need = rf_gen_predicted_bytes(t->out_features, t->in_features, &s->a.vit.gen);
        if (need * ranks_on_node > have)
            return rf_fail("%s [%lld, %lld]: %s needs about %.1f GiB per rank, and %d ranks on "
                           "this node have %.1f GiB: run fewer ranks per node", t->name,
                           (long long)t->out_features, (long long)t->in_features,
                           rf_gen_kind_name(s->a.vit.gen.kind), need / (1 << 30), ranks_on_node,
                           have / (1 << 30));
    }
    return RF_OK;
}

/* Every rank: model headers, task list, XTX presence, memory; rank 0: output folders and the
 * manifest that keeps shards of another model or configuration out. */
static int prepare(run_state *s) {
    int rc = rf_st_open(&s->model, s->a.model);
    if (rc == RF_OK)
        rc = rf_tasks_build(&s->model, s->a.only, &s->a.cfg, &s->a.vit, s->a.seed, &s->tasks);
    if (rc == RF_OK && s->a.xtx) {
        rc = rf_xtx_open(&s->xtx, s->a.xtx);
        for (int i = 0; rc == RF_OK && i < s->tasks.n; i++)
            if (s->tasks.tasks[i].kind == RF_TASK_AQLM && !rf_xtx_has(s->xtx, s->tasks.tasks[i].name))
                rc = rf_fail("--xtx %s has no /xtx/%s (needed for matrix %s)", s->a.xtx,
                             s->tasks.tasks[i].name, s->tasks.tasks[i].name);
    }
    if (rc == RF_OK) rc = check_vit_memory(s, s->ranks_on_node);
    if (rc == RF_OK && s->rank == 0) rc = make_out_dirs(s->a.out);
    if (rc == RF_OK && s->rank == 0) {
        char fingerprint[17];
        rf_model_fingerprint(&s->model, fingerprint);
        rc = rf_manifest_check_or_write(s->a.out, s->a.model, fingerprint, s->config_json);
    }
    return rf_mpi_agree(rc);
}

static void open_rank_log(const run_state *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/logs/rank-%d.log", s->a.out, s->rank);
    if (rf_log_open(path) != RF_OK) rf_warn("%s", rf_last_error());
    rf_log("riverforge %s run: model %s, %d tasks, %d ranks, %d threads per rank, config %s",
           RF_VERSION, s->a.model, s->tasks.n, s->nranks, s->omp_threads, s->config_json);
}

/* Verified shards from an earlier run, combined over ranks. The shards this rank verified go
 * into results (rank -1: resumed), with the stats verification read, to be gathered like the
 * computed ones. Returns how many shards are done in all; *nmine counts this rank's results. */
static int find_done(run_state *s, task_result *results, int *nmine) {
    s->done = rf_calloc((size_t)s->tasks.n, 1);
    rf_task_stats *stats = rf_calloc((size_t)s->tasks.n, sizeof *stats);
    rf_tasks_check_done(&s->tasks, s->a.out, s->config_json, s->rank, s->nranks, s->done, stats);
    *nmine = 0;
    for (int i = 0; i < s->tasks.n; i++)
        if (s->done[i]) results[(*nmine)++] = (task_result){.task = i, .rank = -1, .stats = stats[i]};
    free(stats);
    rf_check_mpi(MPI_Allreduce(MPI_IN_PLACE, s->done, s->tasks.n, MPI_UNSIGNED_CHAR, MPI_MAX,
                               MPI_COMM_WORLD));
    int n = 0;
    for (int i = 0; i < s->tasks.n; i++) n += s->done[i];
    return n;
}

static void show_progress(run_state *s, int force) {
    rf_work_counts c = rf_work_queue_read(&s->queue);
    rf_progress_update(&s->progress, c.tasks_done, (double)c.mflop_done + s->inflight_mflop,
                       c.weights_done, force);
}

/* Between a task's phases: rank 0 refreshes the progress line; every rank drops its task when a
 * stop signal came (the shard is not written; the rerun computes it). */
static int on_kernel_progress(void *ctx, const rf_progress_point *at) {
    run_state *s = ctx;
    if (s->rank == 0) {
        s->inflight_mflop = at->fraction * s->current->cost * 1e-6;
        show_progress(s, 0);
    }
    return stop_signal != 0;
}

static float *read_f32(run_state *s, const rf_st_tensor *t) {
    float *w = rf_malloc((size_t)t->numel * sizeof *w);
    if (rf_st_to_f32(&s->model, t, w) != RF_OK) rf_die_user("%s", rf_last_error());
    return w;
}

/* Quantizes one LLM matrix; RF_OK, or RF_CANCELLED when a stop signal dropped it. */
static int run_aqlm_task(run_state *s, const rf_task *t, rf_aqlm_stats *stats) {
    int64_t out = t->out_features, in = t->in_features;
    float *w = read_f32(s, t->tensor), *xtx = NULL;
    if (s->xtx) {
        int64_t nsamples;
        xtx = rf_malloc((size_t)(in * in) * sizeof *xtx);
        if (rf_xtx_read(s->xtx, t->name, in, xtx, &nsamples) != RF_OK)
            rf_die_user("%s", rf_last_error());
    }
    rf_aqlm_matrix q;
    int rc = rf_aqlm_quantize(w, xtx, out, in, &s->a.cfg, t->seed, &q, stats, on_kernel_progress, s);
    free(w);
    free(xtx);
    if (rc == RF_CANCELLED) return rc;
    char path[4096];
    rf_task_shard_path(s->a.out, t, path, sizeof path);
    rf_matrix_record rec = {.name = t->name, .q = &q, .stats = stats, .device = "cpu"};
    if (rf_matrix_shard_write(path, s->config_json, &rec) != RF_OK) rf_die_user("%s", rf_last_error());
    rf_log("task %s: done in %.2f s, rel_act_err %.6g, rel_w_err %.6g, %d epochs", t->name,
           stats->seconds, stats->rel_act_err, stats->rel_w_err, stats->epochs);
    rf_aqlm_free(&q);
    return RF_OK;
}

/* Generates one shared ViT block's matrix from the matrix it reuses; RF_OK or
 * RF_CANCELLED. */
static int run_vit_task(run_state *s, const rf_task *t, rf_gen_stats *stats) {
    float *target = read_f32(s, t->tensor), *shared = read_f32(s, t->shared);
    rf_gen_result res;
    int rc = rf_gen_train(shared, target, t->out_features, t->in_features, &s->a.vit.gen, t->seed,
                          &res, stats, on_kernel_progress, s);
    free(target);
    free(shared);
    if (rc == RF_CANCELLED) return rc;
    if (rc != RF_OK) rf_die_user("%s: %s", t->name, rf_last_error());
    char path[4096];
    rf_task_shard_path(s->a.out, t, path, sizeof path);
    rf_vit_record rec = {.name = t->name, .shared_from = t->shared_name, .kind = s->a.vit.gen.kind,
                         .res = &res, .stats = stats, .device = "cpu"};
    if (rf_vit_shard_write(path, s->config_json, &rec) != RF_OK) rf_die_user("%s", rf_last_error());
    rf_log("task %s: %s from %s in %.2f s, rel_w_err %.6g (plain sharing %.6g, classical baseline "
           "%.6g), %lld parameters", t->name, rf_gen_kind_name(s->a.vit.gen.kind), t->shared_name,
           stats->seconds, stats->rel_w_err, stats->shared_rel_w_err, stats->baseline_rel_w_err,
           (long long)stats->params);
    rf_gen_free(&res);
    return RF_OK;
}

/* Returns RF_OK, or RF_CANCELLED when a stop signal dropped the task. */
static int run_task(run_state *s, const rf_task *t, task_result *result) {
    rf_log("task %s [%lld, %lld]: start (predicted %.1f GFLOP)", t->name,
           (long long)t->out_features, (long long)t->in_features, t->cost * 1e-9);
    int rc = t->kind == RF_TASK_VIT ? run_vit_task(s, t, &result->stats.vit)
                                    : run_aqlm_task(s, t, &result->stats.aqlm);
    if (rc == RF_CANCELLED) rf_log("task %s: dropped (signal %d)", t->name, (int)stop_signal);
    return rc;
}

/* Takes tasks until the counter passes the end, appending to results[mine..]; returns the new
 * count. */
static int work(run_state *s, task_result *results, int mine) {
    for (;;) {
        if (stop_signal) {
            rf_work_queue_stop(&s->queue);
            rf_log("signal %d: taking no more tasks", (int)stop_signal);
            break;
        }
        int64_t i = rf_work_queue_take(&s->queue);
        if (i >= s->tasks.n) break;
        if (s->done[i]) continue;
        const rf_task *t = &s->tasks.tasks[i];
        results[mine] = (task_result){.task = (int32_t)i, .rank = s->rank};
        s->current = t;
        int rc = run_task(s, t, &results[mine]);
        s->inflight_mflop = 0;
        if (rc == RF_CANCELLED) continue; /* the loop stops at its top */
        mine++;
        rf_work_queue_report(&s->queue, t->cost, t->out_features * t->in_features);
        if (s->rank == 0) show_progress(s, 0);
    }
    return mine;
}

/* Rank 0 receives every rank's results; returns them indexed by task. */
static task_result *gather(run_state *s, task_result *mine, int nmine) {
    int bytes = nmine * (int)sizeof(task_result);
    int *counts = NULL, *displs = NULL;
    task_result *all = NULL;
    if (s->rank == 0) {
        counts = rf_calloc((size_t)s->nranks, sizeof *counts);
        displs = rf_calloc((size_t)s->nranks, sizeof *displs);
    }
    rf_check_mpi(MPI_Gather(&bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
    task_result *flat = NULL;
    if (s->rank == 0) {
        int total = 0;
        for (int r = 0; r < s->nranks; r++) {
            displs[r] = total;
            total += counts[r];
        }
        flat = rf_malloc((size_t)total);
    }
    rf_check_mpi(MPI_Gatherv(mine, bytes, MPI_BYTE, flat, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD));
    if (s->rank == 0) {
        int total = displs[s->nranks - 1] + counts[s->nranks - 1];
        all = rf_calloc((size_t)s->tasks.n, sizeof *all);
        for (int i = 0; i < s->tasks.n; i++) /* -2: not done (-1: done by an earlier run) */
            all[i] = (task_result){.task = i, .rank = -2};
        for (int k = 0; k < total / (int)sizeof(task_result); k++) all[flat[k].task] = flat[k];
    }
    free(counts);
    free(displs);
    free(flat);
    return all;
}

/* "q_proj" of "model.layers.0.self_attn.q_proj". */
static const char *projection_kind(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* The AQLM matrices: one line per projection kind (q_proj, ..., down_proj), in first-seen
 * order, and a total. */
static void print_aqlm_table(const rf_summary_row *rows, int n) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= !rows[i].vit;
    if (!any) return;
    printf("\n%-10s %5s %14s %10s %12s %10s %10s\n", "matrix", "count", "shape", "bits/w",
           "rel_act_err", "rel_w_err", "seconds");
    char *seen = rf_calloc((size_t)n, 1);
    double weights = 0, bits = 0, seconds = 0, act = 0;
    int naqlm = 0;
    for (int i = 0; i < n; i++) {
        if (seen[i] || rows[i].vit) continue;
        const char *kind = projection_kind(rows[i].name);
        int count = 0;
        double b = 0, ae = 0, we = 0, sec = 0;
        for (int j = i; j < n; j++) {
            if (seen[j] || rows[j].vit || strcmp(projection_kind(rows[j].name), kind) != 0 ||
                rows[j].out_features != rows[i].out_features ||
                rows[j].in_features != rows[i].in_features)
                continue;
            seen[j] = 1;
            count++;
            b += rows[j].stats.bits_per_weight;
            ae += rows[j].stats.rel_act_err;
            we += rows[j].stats.rel_w_err;
            sec += rows[j].stats.seconds;
        }
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows[i].out_features,
                 (long long)rows[i].in_features);
        printf("%-10s %5d %14s %10.4f %12.6f %10.6f %10.2f\n", kind, count, shape, b / count,
               ae / count, we / count, sec);
        double w = (double)rows[i].out_features * (double)rows[i].in_features * count;
        weights += w;
        bits += w * b / count;
        seconds += sec;
        act += ae;
        naqlm += count;
    }
    printf("%-10s %5d %14s %10.4f %12.6f %10s %10.2f\n", "total", naqlm, "", bits / weights,
           act / naqlm, "", seconds);
    free(seen);
}

/* The generated ViT matrices, one line each, and how many beat plain sharing and the classical
 * baseline (the paper's claim under test: reported either way). */
static void print_vit_table(const rf_summary_row *rows, int n) {
    int header = 0;
    for (int i = 0; i < n; i++) {
        const rf_gen_stats *g = &rows[i].gen;
        if (!rows[i].vit) continue;
        if (!header++)
            printf("\n%-52s %-8s %10s %10s %10s %9s %6s %8s\n", "shared ViT matrix", "method",
                   "rel_w_err", "sharing", "baseline", "params", "qubits", "seconds");
        printf("%-52s %-8s %10.6f %10.6f %10.6f %9lld %6d %8.2f\n", rows[i].name, rows[i].method,
               g->rel_w_err, g->shared_rel_w_err, g->baseline_rel_w_err, (long long)g->params,
               g->qubits, g->seconds);
    }
    const rf_vit_totals t = rf_summary_vit_totals(rows, n);
    if (t.n)
        printf("%s beats plain sharing on %d of %d matrices and the classical baseline on %d of %d "
               "(mean rel_w_err %.4f, sharing %.4f, baseline %.4f)\n", rows[0].method,
               t.beats_sharing, t.n, t.beats_baseline, t.n, t.mean_rel_w_err,
               t.mean_shared_rel_w_err, t.mean_baseline_rel_w_err);
}

/* Rank 0: summary of the tasks done; when all are, the checkpoint. Returns RF_OK, RF_ERR, or
 * RF_EXIT_INTERRUPTED when tasks remain. */
static int finish(run_state *s, task_result *all, double seconds) {
    rf_summary_row *rows = rf_calloc((size_t)s->tasks.n, sizeof *rows);
    const char **paths = rf_calloc((size_t)s->tasks.n, sizeof *paths);
    const char **names = rf_calloc((size_t)s->tasks.n, sizeof *names);
    rf_record_kind *kinds = rf_calloc((size_t)s->tasks.n, sizeof *kinds);
    int n = 0;
    for (int i = 0; i < s->tasks.n; i++) {
        const rf_task *t = &s->tasks.tasks[i];
        if (all[i].rank == -2) continue;
        rows[n] = (rf_summary_row){.name = t->name, .out_features = t->out_features,
                                   .in_features = t->in_features, .vit = t->kind == RF_TASK_VIT,
                                   .stats = all[i].stats.aqlm, .gen = all[i].stats.vit,
                                   .method = rf_gen_kind_name(s->a.vit.gen.kind),
                                   .shared_from = t->shared_name, .rank = all[i].rank};
        kinds[n] = t->kind == RF_TASK_VIT ? RF_RECORD_VIT : RF_RECORD_MATRIX;
        char path[4096];
        rf_task_shard_path(s->a.out, t, path, sizeof path);
        paths[n] = rf_strdup(path);
        names[n++] = t->name;
    }
    int complete = n == s->tasks.n;
    rf_summary sum = {.version = RF_VERSION, .model = s->a.model, .xtx = s->a.xtx, .out = s->a.out,
                      .config_json = s->config_json, .ranks = s->nranks,
                      .omp_threads = s->omp_threads, .seconds = seconds, .complete = complete,
                      .tasks_total = s->tasks.n, .n = n, .rows = rows};
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", s->a.out);
    char *provenance = rf_summary_json(&sum);
    int rc = rf_summary_write(s->a.out, &sum);
    if (rc == RF_OK && complete)
        rc = rf_checkpoint_assemble(ckpt, s->config_json, provenance, n, paths, names, kinds);
    if (rc == RF_OK && complete) {
        print_aqlm_table(rows, n);
        print_vit_table(rows, n);
        printf("\nriverforge: %d matrices in %.1f s on %d ranks; checkpoint %s\n", n, seconds,
               s->nranks, ckpt);
        rf_log("assembled %s", ckpt);
    } else if (rc == RF_OK) {
        printf("riverforge: interrupted: %d of %d matrices done (shards in %s/shards); rerun with "
               "the same --out to resume\n", n, s->tasks.n, s->a.out);
        rf_log("interrupted with %d of %d tasks done", n, s->tasks.n);
        rc = RF_EXIT_INTERRUPTED;
    }
    for (int i = 0; i < n; i++) free((char *)paths[i]);
    free(paths);
    free(names);
    free(kinds);
    free(rows);
    free(provenance);
    return rc;
}

int rf_cmd_run(int argc, char **argv) {
    run_state s = {0};
    rf_mpi_setup(&s.rank, &s.nranks);
    catch_stop_signals();
    double start = rf_now();
    int rc = parse_args(argc, argv, &s.a, s.rank);
    if (rc == 1) return RF_EXIT_OK;
    if (rf_mpi_agree(rc) != RF_OK) return RF_EXIT_USAGE;
    s.ranks_on_node = rf_mpi_ranks_on_node();
    s.omp_threads = choose_threads(s.rank, s.ranks_on_node);
    char model_dir[4096], xtx_path[4096];
    if (s.a.embedded && prepare_embedded_model(&s, model_dir, xtx_path, sizeof model_dir) != RF_OK)
        return RF_EXIT_USAGE;
    s.config_json = rf_run_config_json(&s.a.cfg, &s.a.vit, s.a.seed, s.a.xtx);
    if (prepare(&s) != RF_OK) return RF_EXIT_USAGE;
    open_rank_log(&s);
    task_result *mine = rf_calloc((size_t)s.tasks.n, sizeof *mine); /* resumed + computed <= n */
    int nmine;
    int resumed = find_done(&s, mine, &nmine);

    double total_mflop = 0;
    int64_t total_weights = 0;
    for (int i = 0; i < s.tasks.n; i++) { /* the work still to do */
        if (s.done[i]) continue;
        total_mflop += s.tasks.tasks[i].cost * 1e-6;
        total_weights += s.tasks.tasks[i].out_features * s.tasks.tasks[i].in_features;
    }
    if (s.rank == 0) {
        printf("riverforge %s: %d matrices of %s on %d ranks x %d threads, %s; %s\n", RF_VERSION,
               s.tasks.n, s.a.model, s.nranks, s.omp_threads, s.config_json,
               s.a.xtx ? "objective tr(dW XTX dW^T) from --xtx"
                       : "no --xtx: objective is the plain weight MSE (XTX = I)");
        if (resumed) printf("riverforge: resuming: %d of %d shards already done in %s/shards\n",
                            resumed, s.tasks.n, s.a.out);
        fflush(stdout);
        rf_progress_start(&s.progress, s.tasks.n - resumed, total_mflop, total_weights, s.a.progress_interval);
    }
    rf_work_queue_open(&s.queue);
    int nresumed = nmine;
    nmine = work(&s, mine, nmine);
    rf_log("computed %d tasks", nmine - nresumed);
    rf_check_mpi(MPI_Barrier(MPI_COMM_WORLD));
    if (s.rank == 0) show_progress(&s, 1);
    rf_work_queue_close(&s.queue);
    task_result *all = gather(&s, mine, nmine);
    if (s.rank == 0) rc = finish(&s, all, rf_now() - start);
    /* rank 0's verdict on the assembly is the job's */
    rf_check_mpi(MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD));
    if (rc == RF_ERR && s.rank == 0) fprintf(stderr, "riverforge: error: %s\n", rf_last_error());

    free(all);
    free(mine);
    free(s.done);
    free(s.config_json);
    rf_tasks_free(&s.tasks);
    if (s.xtx) rf_xtx_close(s.xtx);
    rf_st_close(&s.model);
    rf_log_close();
    return rc == RF_OK ? RF_EXIT_OK : rc == RF_ERR ? RF_EXIT_USAGE : rc;
}
