/* cmd_plan.c -- `riverforge plan`: the task list of a run without running it: tasks in run
 * order with shapes, bits per weight, predicted work and time, and the predicted time per rank.
 * Times price each part of the predicted FLOP at the rate of the loop that does it, measured at
 * startup on the threads OMP_NUM_THREADS gives: the AQLM scoring loop at its own rates for k-means
 * and beam search, the losses and gradients at the Adam step's, other BLAS products at the sgemm
 * rate (rf_aqlm_predicted_work; --gflops gives one rate for all instead). The predicted peak
 * memory per rank, and a task that does not fit this machine's memory is refused as run refuses
 * it (shards/tasks.h).
 * With --calibrate N: instead, the predicted peak memory per rank of `calibrate --nsamples N`
 * (mpi/calibrate_memory.h). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"
#include "io/decoder_model.h"
#include "io/safetensors.h"
#include "kernels/blas_rate.h"
#include "mpi/calibrate_memory.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "shards/tasks.h"

/* The rate measurement: an n^3 sgemm, best of a few runs (about 0.1 s on a laptop). */
#define RATE_N 1024
#define RATE_REPS 3
/* ... and of each of the scoring loop's two uses and of the Adam step (after a warm-up call). */
#define SCORING_SECONDS 0.3
#define STEP_SECONDS 0.3
/* ... the Adam step's on a matrix of a Qwen3-4B k_proj's shape */
#define STEP_OUT 1024
#define STEP_IN 2560

/* "40 s", "12.5 min", "3.2 h", "5.4 days": predicted times span seconds to weeks. */
static void format_duration(double seconds, char *buf, size_t len) {
    if (seconds < 120) snprintf(buf, len, "%.0f s", seconds);
    else if (seconds < 7200) snprintf(buf, len, "%.1f min", seconds / 60);
    else if (seconds < 172800) snprintf(buf, len, "%.1f h", seconds / 3600);
    else snprintf(buf, len, "%.1f days", seconds / 86400);
}

/* "700 MiB", "3.2 GiB": a task's peak spans megabytes to terabytes. */
static void format_bytes(double bytes, char *buf, size_t len) {
    if (bytes < (1 << 30)) snprintf(buf, len, "%.0f MiB", bytes / (1 << 20));
    else snprintf(buf, len, "%.1f GiB", bytes / (1 << 30));
}

/* FLOP/s of one rank: BLAS products at the sgemm rate, the scoring loop's two uses, the Adam
 * steps. */
typedef struct {
    double sgemm, kmeans, beam, step;
} rates;

/* This machine's rates on the threads OMP_NUM_THREADS gives, for cfg's codewords, printed. */
static void measure_rates(const rf_aqlm_config *cfg, rates *r) {
    r->sgemm = rf_sgemm_rate(RATE_N, RATE_REPS);
    rf_aqlm_scoring_rates(cfg, SCORING_SECONDS, &r->kmeans, &r->beam);
    r->step = rf_aqlm_step_rate(cfg, STEP_OUT, STEP_IN, STEP_SECONDS);
    const int threads = omp_get_max_threads();
    printf("this machine, on %d thread%s%s: sgemm (%d^3) %.1f GFLOP/s; the scoring loop (SIMD path "
           "%s, %d codewords of %d) %.1f GFLOP/s for k-means (top 1), %.1f GFLOP/s for the beam "
           "search (top %d); the Adam steps %.1f GFLOP/s. Each rank is assumed to run at these "
           "rates.\n\n", threads, threads == 1 ? "" : "s",
           getenv("OMP_NUM_THREADS") ? "" : " (set OMP_NUM_THREADS to a rank's threads)", RATE_N,
           r->sgemm * 1e-9, rf_simd_name(rf_simd_path()), 1 << cfg->nbits_per_codebook,
           cfg->out_group_size * cfg->in_group_size, r->kmeans * 1e-9, r->beam * 1e-9,
           cfg->beam_size, r->step * 1e-9);
    if (rf_blas_core_advice())
        printf("(OpenBLAS runs its %s kernels on this CPU: OPENBLAS_CORETYPE=%s would be "
               "faster)\n\n", rf_blas_core(), rf_blas_core_advice());
}

/* A task's predicted seconds: an AQLM task's scoring at the scoring loop's rates, its losses at
 * the Adam step's and the rest at the sgemm rate; a generated ViT matrix's work (circuits and
 * read-out) at the sgemm rate. */
static double task_seconds(const rf_task *t, const rf_aqlm_config *cfg, const rates *r) {
    if (t->kind == RF_TASK_VIT) return t->cost / r->sgemm;
    const rf_aqlm_work w = rf_aqlm_predicted_work(t->out_features, t->in_features, cfg);
    return w.kmeans / r->kmeans + w.beam / r->beam + w.steps / r->step + w.blas / r->sgemm;
}

/* plan --calibrate: calibrate's memory check as it would run with `ranks` ranks. */
static int plan_calibration(const char *model, int nsamples, int seqlen, int ranks) {
    rf_dec_model m = {0};
    if (rf_dec_model_open(&m, model, NULL) != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    rf_calib_peak p = rf_calib_predict_peak(&m.cfg, seqlen, nsamples, ranks);
    double peak = p.rank0 > p.other ? p.rank0 : p.other, memory = rf_node_memory_bytes();
    int fit = (int)(memory / peak);
    printf("calibrate --nsamples %d --seqlen %d on %d rank%s (%d layers): predicted peak memory "
           "per rank %.3g GiB (rank 0 %.3g GiB); this machine's %.1f GiB usable hold %d rank%s\n",
           nsamples, seqlen, ranks, ranks == 1 ? "" : "s", m.nlayers, p.other / (1 << 30),
           p.rank0 / (1 << 30), memory / (1 << 30), fit, fit == 1 ? "" : "s");
    rf_dec_model_close(&m);
    return RF_EXIT_OK;
}

int rf_cmd_plan(int argc, char **argv) {
    const char *model = NULL, *only = NULL;
    int ranks = 1, calibrate = 0, seqlen = 4096;
    double gflops = 0; /* 0: measure */
    rf_aqlm_config cfg = rf_aqlm_config_default();
    rf_cli_vit vit_flags;
    rf_vit_share vit;
    rf_opt opts[6 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS] = {
        {"--model", RF_OPT_STRING, &model, "DIR", "Hugging Face model directory or .safetensors file (required)"},
        {"--only", RF_OPT_STRING, &only, "REGEX", "only the matrices whose name matches"},
        {"--ranks", RF_OPT_INT, &ranks, "N", "ranks to plan for"},
        {"--gflops", RF_OPT_DOUBLE, &gflops, "X", "GFLOP/s of one rank for all work, for the times (0: measure this machine's rates)"},
        {"--calibrate", RF_OPT_INT, &calibrate, "N", "instead: the peak memory per rank of calibrate --nsamples N"},
        {"--seqlen", RF_OPT_INT, &seqlen, "N", "tokens per sequence, for --calibrate"},
    };
    rf_cli_aqlm_opts(&cfg, opts + 6);
    rf_cli_vit_opts(&vit_flags, argc, argv, opts + 6 + RF_AQLM_NUM_OPTS);
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    int rc = rf_cli_parse(argc, argv, "plan", opts, nopts);
    if (rc == 1) {
        rf_cli_help(stdout,
                    "riverforge plan --model DIR [quantization flags | --calibrate N [--seqlen L]] "
                    "[--ranks N]",
                    "Prints the tasks of a run (and, with --vit-share, the generated ViT matrices)\n"
                    "in the order ranks take them, with shapes, bits per weight, predicted work\n"
                    "and time, and the predicted time of each rank.\n\n"
                    "Times price the AQLM scoring loop (k-means and beam search) and the Adam\n"
                    "steps at their own rates and other BLAS products at the sgemm rate, measured\n"
                    "at startup on the threads OMP_NUM_THREADS gives (set it to a rank's\n"
                    "threads), or all work at --gflops. Every epoch up to --max_epochs is\n"
                    "counted: with --relative_mse_tolerance > 0 most matrices stop much sooner,\n"
                    "and the times are upper bounds.\n\n"
                    "With --calibrate N it prints instead the predicted peak memory per rank of\n"
                    "`calibrate --nsamples N --seqlen L` on --ranks ranks (the check calibrate\n"
                    "makes before any work), and how many such ranks this machine holds.",
                    opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && !model) rc = rf_fail("--model DIR is required");
    if (rc == RF_OK) rc = rf_cli_vit_finish(&vit_flags, &vit);
    if (rc == RF_OK && ranks < 1) rc = rf_fail("--ranks must be at least 1");
    if (rc == RF_OK && !(gflops >= 0)) rc = rf_fail("--gflops %g: must be >= 0 (0: measure)", gflops);
    if (rc == RF_OK && calibrate < 0) rc = rf_fail("--calibrate %d: not negative", calibrate);
    if (rc == RF_OK && seqlen < 1) rc = rf_fail("--seqlen %d: at least 1 token", seqlen);
    if (rc == RF_OK && calibrate) return plan_calibration(model, calibrate, seqlen, ranks);
    rf_st_model m = {0};
    rf_task_list list = {0};
    if (rc == RF_OK) rc = rf_st_open(&m, model);
    if (rc == RF_OK) rc = rf_tasks_build(&m, only, &cfg, &vit, 0, &list);
    /* What run would refuse on this machine with one rank, counting an XTX per matrix (the usual
     * run; without --xtx a run needs less). */
    const double memory = rf_node_memory_bytes();
    if (rc == RF_OK) rc = rf_tasks_check_memory(&list, &cfg, &vit.gen, 1, 1, memory);
    if (rc != RF_OK) {
        rf_cli_flag_error(opts, nopts); /* a kernel's setting, named as its flag */
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        rf_tasks_free(&list);
        rf_st_close(&m);
        return RF_EXIT_USAGE;
    }
    rates r = {gflops * 1e9, gflops * 1e9, gflops * 1e9, gflops * 1e9};
    if (gflops == 0) measure_rates(&cfg, &r);
    printf("%5s  %-52s %14s %8s %12s %10s\n", "order", "task", "shape", "bits/w", "GFLOP", "time");
    double total = 0, weights = 0, bits = 0;
    double *seconds = rf_calloc((size_t)list.n, sizeof *seconds);
    char time[32];
    for (int i = 0; i < list.n; i++) {
        const rf_task *t = &list.tasks[i];
        /* a generated ViT matrix is stored as float32 */
        double b = t->kind == RF_TASK_VIT ? 32.0
                                          : rf_aqlm_bits_per_weight(t->out_features, t->in_features, &cfg);
        double w = (double)t->out_features * (double)t->in_features;
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)t->out_features, (long long)t->in_features);
        seconds[i] = task_seconds(t, &cfg, &r);
        format_duration(seconds[i], time, sizeof time);
        printf("%5d  %-52s %14s %8.4f %12.1f %10s\n", i, t->name, shape, b, t->cost * 1e-9, time);
        total += t->cost;
        weights += w;
        bits += w * b;
    }
    double *rank_seconds = rf_calloc((size_t)ranks, sizeof *rank_seconds);
    double makespan = rf_tasks_predict_ranks(&list, seconds, ranks, rank_seconds);
    printf("\n%d tasks, %.3g weights, %.4f bits/weight, %.1f GFLOP in all\n", list.n, weights,
           bits / weights, total * 1e-9);
    for (int k = 0; k < ranks; k++) {
        format_duration(rank_seconds[k], time, sizeof time);
        printf("rank %4d: about %s\n", k, time);
    }
    format_duration(makespan, time, sizeof time);
    printf("predicted wall time: about %s (longest rank)\n", time);
    /* AQLM stops a matrix when an epoch improves it by less than the tolerance; the prediction
     * counts every epoch, so with a tolerance it bounds the work from above. */
    if (cfg.relative_mse_tolerance > 0)
        printf("(an upper bound: every epoch up to --max_epochs %d is counted, and "
               "--relative_mse_tolerance %g stops most matrices much sooner)\n", cfg.max_epochs,
               cfg.relative_mse_tolerance);
    int largest = 0;
    double peak = 0;
    for (int i = 0; i < list.n; i++) {
        const double b = rf_task_predicted_bytes(&list.tasks[i], &cfg, &vit.gen, 1);
        if (b > peak) peak = b, largest = i;
    }
    char need[32], have[32];
    format_bytes(peak, need, sizeof need);
    format_bytes(memory, have, sizeof have);
    printf("predicted peak memory per rank: %s (%s, with its XTX); this machine's %s hold %d such "
           "ranks\n", need, list.tasks[largest].name, have, (int)(memory / peak));
    free(rank_seconds);
    free(seconds);
    rf_tasks_free(&list);
    rf_st_close(&m);
    return RF_EXIT_OK;
}
