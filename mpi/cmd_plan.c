/* cmd_plan.c -- `riverforge plan`: the task list of a run without running it: tasks in run
 * order with shapes, bits per weight and predicted work, and the predicted work per rank. */
#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "io/safetensors.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "shards/tasks.h"

int rf_cmd_plan(int argc, char **argv) {
    const char *model = NULL, *only = NULL;
    int ranks = 1;
    double gflops = 20;
    rf_aqlm_config cfg = rf_aqlm_config_default();
    rf_cli_vit vit_flags;
    rf_vit_share vit;
    rf_opt opts[4 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS] = {
        {"--model", RF_OPT_STRING, &model, "DIR", "Hugging Face model directory or .safetensors file (required)"},
        {"--only", RF_OPT_STRING, &only, "REGEX", "only the matrices whose name matches"},
        {"--ranks", RF_OPT_INT, &ranks, "N", "ranks to plan for"},
        {"--gflops", RF_OPT_DOUBLE, &gflops, "X", "assumed sustained GFLOP/s per rank, for the time estimate"},
    };
    rf_cli_aqlm_opts(&cfg, opts + 4);
    rf_cli_vit_opts(&vit_flags, argc, argv, opts + 4 + RF_AQLM_NUM_OPTS);
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    int rc = rf_cli_parse(argc, argv, "plan", opts, nopts);
    if (rc == 1) {
        rf_cli_help(stdout, "riverforge plan --model DIR [quantization flags] [--ranks N]",
                    "Prints the tasks of a run (and, with --vit-share, the generated ViT matrices)\n"
                    "in the order ranks take them, with shapes, bits per\n"
                    "weight and predicted work, and the predicted work and time of each rank.",
                    opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && !model) rc = rf_fail("--model DIR is required");
    if (rc == RF_OK) rc = rf_cli_vit_finish(&vit_flags, &vit);
    if (rc == RF_OK && ranks < 1) rc = rf_fail("--ranks must be at least 1");
    if (rc == RF_OK && gflops <= 0) rc = rf_fail("--gflops must be positive");
    rf_st_model m = {0};
    rf_task_list list = {0};
    if (rc == RF_OK) rc = rf_st_open(&m, model);
    if (rc == RF_OK) rc = rf_tasks_build(&m, only, &cfg, &vit, 0, &list);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        rf_st_close(&m);
        return RF_EXIT_USAGE;
    }
    printf("%5s  %-52s %14s %8s %12s\n", "order", "task", "shape", "bits/w", "GFLOP");
    double total = 0, weights = 0, bits = 0;
    for (int i = 0; i < list.n; i++) {
        const rf_task *t = &list.tasks[i];
        /* a generated ViT matrix is stored as float32 */
        double b = t->kind == RF_TASK_VIT ? 32.0
                                          : rf_aqlm_bits_per_weight(t->out_features, t->in_features, &cfg);
        double w = (double)t->out_features * (double)t->in_features;
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)t->out_features, (long long)t->in_features);
        printf("%5d  %-52s %14s %8.4f %12.1f\n", i, t->name, shape, b, t->cost * 1e-9);
        total += t->cost;
        weights += w;
        bits += w * b;
    }
    double *rank_cost = rf_calloc((size_t)ranks, sizeof *rank_cost);
    double makespan = rf_tasks_predict_ranks(&list, ranks, rank_cost);
    printf("\n%d tasks, %.3g weights, %.4f bits/weight, %.1f GFLOP in all\n", list.n, weights,
           bits / weights, total * 1e-9);
    for (int r = 0; r < ranks; r++)
        printf("rank %4d: %10.1f GFLOP, about %.0f s at %g GFLOP/s\n", r, rank_cost[r] * 1e-9,
               rank_cost[r] * 1e-9 / gflops, gflops);
    printf("predicted wall time: about %.0f s (longest rank)\n", makespan * 1e-9 / gflops);
    free(rank_cost);
    rf_tasks_free(&list);
    rf_st_close(&m);
    return RF_EXIT_OK;
}
