/* main.c -- the riverforge command line: dispatches to a subcommand (mpi/commands.h). The MPI
 * programs (run, sweep, eval, calibrate) initialize MPI; the other subcommands are plain processes. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"
#include "common/rf_version.h"
#include "kernels/blas_rate.h"
#include "mpi/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "riverforge %s -- AQLM quantization of language models over MPI ranks\n\n"
            "usage: riverforge COMMAND [flags]       (riverforge COMMAND --help for its flags)\n\n"
            "  run         quantize every linear matrix of a model (mpirun -np N riverforge run ...)\n"
            "  plan        the tasks of a run, their order and predicted work per rank\n"
            "  synth       write a synthetic Hugging Face-format Qwen3-style model with xtx.h5\n"
            "  inspect     one row per matrix of a checkpoint or shard\n"
            "  dequantize  dense float32 safetensors from a checkpoint\n"
            "  export      the quantized model as transformers loads it (--format aqlm-hf)\n"
            "  vqc         simulate a variational quantum circuit on a state vector (vqc simulate)\n"
            "  sweep       a grid of AQLM configurations in one MPI run, compared (or a job array)\n"
            "  report      compare runs: a table with the Pareto front, CSV, Markdown, a plot\n"
            "  eval        perplexity of the model and of a quantized checkpoint on a token file\n"
            "  calibrate   XTX statistics for run --xtx from the model's forward pass on a token file\n\n"
            "exit codes: 0 done, 1 internal error, 2 bad input, 3 interrupted (rerun to resume)\n",
            RF_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? RF_EXIT_USAGE : RF_EXIT_OK;
    }
    if (rf_simd_init() != RF_OK) { /* a bad RF_SIMD: before any work, on every rank alike */
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version")) {
        const char *advice = rf_blas_core_advice();
        printf("riverforge %s (SIMD path %s; OpenBLAS %s kernels", RF_VERSION,
               rf_simd_name(rf_simd_path()), rf_blas_core());
        if (advice) printf("; this CPU runs better ones: set OPENBLAS_CORETYPE=%s", advice);
        printf(")\n");
        return RF_EXIT_OK;
    }
    const char *cmd = argv[1];
    int (*mpi_cmd)(int, char **) = !strcmp(cmd, "run")         ? rf_cmd_run
                                   : !strcmp(cmd, "sweep")     ? rf_cmd_sweep
                                   : !strcmp(cmd, "eval")      ? rf_cmd_eval
                                   : !strcmp(cmd, "calibrate") ? rf_cmd_calibrate
                                                               : NULL;
    if (mpi_cmd) {
        int provided;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        int rc = mpi_cmd(argc - 1, argv + 1);
        MPI_Finalize();
        return rc;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } commands[] = {{"synth", rf_cmd_synth}, {"plan", rf_cmd_plan}, {"inspect", rf_cmd_inspect},
                    {"dequantize", rf_cmd_dequantize}, {"export", rf_cmd_export},
                    {"vqc", rf_cmd_vqc}, {"report", rf_cmd_report}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "riverforge: error: unknown command '%s' (riverforge --help lists them)\n", cmd);
    return RF_EXIT_USAGE;
}
