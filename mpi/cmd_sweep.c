/* cmd_sweep.c -- `mpirun -np N riverforge sweep --model DIR --out DIR --grid "..." [--override
 * ...] [run flags]`: expands the grid of AQLM configurations (shards/sweep_grid.h) and checks every
 * configuration against every matrix of the model before any work, then either
 *   runs them   as one MPI run (run_core.h): every (configuration, matrix) pair in one task queue,
 *               configuration NAME into OUT/NAME with its own shards, summary and checkpoint; the
 *               sweep locks OUT and every OUT/NAME (shards/out_lock.h), so that neither another
 *               sweep nor a plain `run` writes them meanwhile; when every configuration is
 *               complete, rank 0 writes OUT/report.csv and OUT/report.md (report/report.h), or
 *   --emit-array FILE  (rank 0) writes FILE in jobscripts/sweep-array.sbatch's format (one line
 *               of run flags per configuration) and prints the sbatch command that runs them,
 *               configuration i into OUT/config-i.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/rf_error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "mpi/cli.h"
#include "common/rf_log.h"
#include "mpi/commands.h"
#include "mpi/driver.h"
#include "mpi/rf_mpi.h"
#include "mpi/run_core.h"
#include "report/report_tables.h"
#include "shards/out_lock.h"
#include "shards/sweep_grid.h"
#include "shards/tasks.h"

enum { OWN_OPTS = 9, NUM_OPTS = OWN_OPTS + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS + RF_EVAL_NUM_OPTS };
enum { FIRST_RUN_FLAG = 3 }; /* opts[FIRST_RUN_FLAG..]: flags that every array element passes to run */

typedef struct {
    const char *grid, *override, *emit, *model, *out, *xtx, *only;
    uint64_t seed;
    double progress_interval;
    rf_aqlm_config cfg;
    rf_cli_vit vit_flags;
    rf_vit_share vit;
    rf_eval_flags eval;
    rf_opt opts[NUM_OPTS];
} sweep_flags;

static void print_help(const sweep_flags *f) {
    rf_cli_help(stdout, "mpirun -np N riverforge sweep --model DIR --out DIR --grid \"SETTING=V1,V2 "
                        "...\" [--override REGEX:SETTING=V] [--emit-array FILE] [run flags]",
                "Expands the grid into AQLM configurations (every combination; e.g. --grid\n"
                "\"num_codebooks=1,2 nbits_per_codebook=8,16 in_group_size=8,16\" gives 8, named\n"
                "1x8-g8 ... 2x16-g16) and checks each against every matrix of the model before\n"
                "any work. Then runs them as one MPI run: every (configuration, matrix) pair in\n"
                "one task queue, largest first, configuration NAME into OUT/NAME (shards/,\n"
                "checkpoint.h5, summary.json, summary.csv), with the same XTX and per-matrix\n"
                "seeds as a plain run of it; at the end OUT/report.csv and OUT/report.md compare\n"
                "them (riverforge report OUT draws the plot too). A rerun with the same --out\n"
                "resumes every configuration. --eval-tokens FILE adds each checkpoint's\n"
                "perplexity (and the dense model's) to its summary and the report.\n"
                "--override REGEX:SETTING=V[,SETTING=V][;...] sets matrices whose name matches\n"
                "REGEX apart in every configuration (k_proj|v_proj:nbits_per_codebook=14).\n"
                "--emit-array FILE instead writes one line of run flags per configuration for\n"
                "jobscripts/sweep-array.sbatch and prints the sbatch command, which runs\n"
                "configuration i into OUT/config-i (no --override there: run has none).\n"
                "The other flags are run's and go to every configuration; a setting the grid\n"
                "lists cannot be given as a flag too.\n"
                "Exit codes: 0 done, 1 internal error, 2 bad input, 3 interrupted.",
                f->opts, NUM_OPTS);
}

/* Every rank parses; rank 0 prints --help. */
static int parse_flags(int argc, char **argv, int rank, sweep_flags *f) {
    memset(f, 0, sizeof *f);
    f->cfg = rf_aqlm_config_default();
    f->progress_interval = 10;
    const rf_opt own[OWN_OPTS] = {
        {"--grid", RF_OPT_STRING, &f->grid, "\"SETTING=V1,V2 ...\"", "the configurations: every combination of the values (required)"},
        {"--override", RF_OPT_STRING, &f->override, "REGEX:SETTING=V", "per-matrix settings in every configuration"},
        {"--emit-array", RF_OPT_STRING, &f->emit, "FILE", "write the configurations for jobscripts/sweep-array.sbatch and print its sbatch command"},
        {"--model", RF_OPT_STRING, &f->model, "DIR", "Hugging Face model directory or .safetensors file (required)"},
        {"--out", RF_OPT_STRING, &f->out, "DIR", "the sweep's folder: configuration NAME runs into OUT/NAME (--emit-array: OUT/config-i) (required)"},
        {"--xtx", RF_OPT_STRING, &f->xtx, "FILE.h5", "calibration statistics /xtx/NAME (without: plain weight MSE)"},
        {"--only", RF_OPT_STRING, &f->only, "REGEX", "only the matrices whose name matches"},
        {"--seed", RF_OPT_U64, &f->seed, "S", "run seed"},
        {"--progress-interval", RF_OPT_DOUBLE, &f->progress_interval, "SEC", "seconds between progress lines"},
    };
    memcpy(f->opts, own, sizeof own);
    rf_cli_aqlm_opts(&f->cfg, f->opts + OWN_OPTS);
    rf_cli_vit_opts(&f->vit_flags, argc, argv, f->opts + OWN_OPTS + RF_AQLM_NUM_OPTS);
    rf_eval_opts(&f->eval, f->opts + OWN_OPTS + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS);
    int rc = rf_cli_parse(argc, argv, "sweep", f->opts, NUM_OPTS);
    if (rc == 1) {
        if (rank == 0) print_help(f);
        return 1;
    }
    if (rc == RF_OK && (!f->grid || !f->model || !f->out))
        rc = rf_fail("--grid, --model and --out are required (see riverforge sweep --help)");
    if (rc == RF_OK && f->override && f->emit)
        rc = rf_fail("--override cannot go with --emit-array: the lines it writes are run flags, "
                     "and run has no per-matrix settings (the sweep without --emit-array has)");
    if (rc == RF_OK && rf_cli_vit_finish(&f->vit_flags, &f->vit) != RF_OK)
        rc = rf_cli_flag_error(f->opts, NUM_OPTS);
    if (rc == RF_OK) rc = rf_eval_flags_check(&f->eval);
    if (rc == RF_OK && f->progress_interval <= 0) rc = rf_fail("--progress-interval must be positive");
    return rc;
}

/* Every configuration against the model, as run would check it. */
static int check_model(const sweep_flags *f, const rf_sweep *s) {
    rf_st_model m = {0};
    int rc = rf_st_open(&m, f->model);
    if (rc == RF_OK) rc = rf_sweep_check_model(s, &m, f->only);
    if (rc == RF_OK && f->vit.npairs > 0) { /* the shared blocks do not depend on the grid */
        rf_task_list list;
        rc = rf_tasks_build(&m, f->only, &s->configs[0].cfg, &f->vit, f->seed, &list);
        if (rc == RF_OK) rf_tasks_free(&list);
    }
    rf_st_close(&m);
    return rc;
}

static int write_array_file(const sweep_flags *f, const rf_sweep *s) {
    char *text = NULL;
    size_t len = 0;
    FILE *t = open_memstream(&text, &len);
    rf_check(t, "open_memstream failed");
    fprintf(t, "# riverforge sweep --grid \"%s\" on %s: one configuration per line, the run flags "
               "of array element i (jobscripts/sweep-array.sbatch), which writes OUT/config-i\n",
            f->grid, f->model);
    for (int i = 0; i < s->n; i++) {
        char flags[1024];
        rf_sweep_flags(s, i, flags, sizeof flags);
        fprintf(t, "# config-%d: %s\n%s\n", i, s->configs[i].name, flags);
    }
    fclose(t);
    const void *parts[1] = {text};
    int rc = rf_atomic_write(f->emit, 1, parts, &len);
    free(text);
    return rc != RF_OK ? rf_fail_prefix("--emit-array: ") : RF_OK;
}

/* s as one shell word: as it is when it holds only safe characters, else in single quotes. */
static void print_shell_word(const char *s) {
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,+@%") ==
                  strlen(s)) {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\'", stdout); /* close, an escaped quote, reopen */
        putchar(*s);
    }
    putchar('\'');
}

/* The sbatch command: the array, FILE, and every run flag that was given, as parsed. */
static void print_sbatch(int argc, char **argv, const sweep_flags *f, int n) {
    printf("sbatch --array=0-%d jobscripts/sweep-array.sbatch ", n - 1);
    print_shell_word(f->emit);
    for (int k = FIRST_RUN_FLAG; k < NUM_OPTS; k++) {
        const rf_opt *o = &f->opts[k];
        if (!rf_cli_has(argc, argv, o->name)) continue;
        char value[64];
        switch (o->kind) {
        case RF_OPT_STRING: printf(" %s ", o->name); print_shell_word(*(const char **)o->dst); continue;
        case RF_OPT_INT: snprintf(value, sizeof value, "%d", *(int *)o->dst); break;
        case RF_OPT_DOUBLE: snprintf(value, sizeof value, "%.15g", *(double *)o->dst); break;
        case RF_OPT_U64: snprintf(value, sizeof value, "%llu", (unsigned long long)*(uint64_t *)o->dst); break;
        }
        printf(" %s %s", o->name, value);
    }
    printf("\n");
}

/* A setting both in the grid and given as a flag: which one would a configuration get? */
static int check_grid_flags(int argc, char **argv, const rf_sweep *s) {
    for (int k = 0; rf_sweep_setting_name(k); k++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", rf_sweep_setting_name(k));
        if ((s->grid_settings & (1u << k)) && rf_cli_has(argc, argv, flag))
            return rf_fail("%s is given as a flag and in --grid: list its values in --grid only", flag);
    }
    return RF_OK;
}

/* When the failing setting came from a flag (the base of every configuration), names the flag;
 * a value from --grid keeps the setting's name, as the grid spells it. */
static void name_flag(int argc, char **argv, const sweep_flags *f) {
    rf_opt given[NUM_OPTS];
    int n = 0;
    for (int k = 0; k < NUM_OPTS; k++)
        if (rf_cli_has(argc, argv, f->opts[k].name)) given[n++] = f->opts[k];
    rf_cli_flag_error(given, n);
}

/* --emit-array, on rank 0: FILE and the sbatch command. */
static int emit_array(int argc, char **argv, const sweep_flags *f, const rf_sweep *s) {
    if (write_array_file(f, s) != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("%d configurations of %s, each checked against every matrix of the run; %s holds "
           "their run flags:\n", s->n, f->model, f->emit);
    for (int i = 0; i < s->n; i++) {
        char flags[1024];
        rf_sweep_flags(s, i, flags, sizeof flags);
        printf("  config-%-4d %-24s %s\n", i, s->configs[i].name, flags);
    }
    printf("Submit the array (add the sbatch options your cluster needs, e.g. -n RANKS):\n  ");
    print_sbatch(argc, argv, f, s->n);
    printf("then compare the runs: riverforge report ");
    print_shell_word(f->out);
    printf("\n");
    return RF_EXIT_OK;
}

/* Each lock keeps a descriptor open for the whole run (shards/out_lock.h): room for n of them
 * besides what HDF5 and MPI open, within the hard limit (1024 is a common soft one). */
static void allow_open_files(int n) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const rlim_t want = (rlim_t)n + 256;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
        lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > want ? want : lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim); /* when it fails, a lock says "too many open files" */
    }
}

/* OUT and every configuration's folder, each as run locks its OUT: rank 0 takes them all, then
 * the others join. */
static int lock_folders(const char *out, const rf_run_config *configs, int n, int rank,
                        int nranks) {
    allow_open_files(n + 1);
    for (int join = 0; join < 2; join++) {
        int rc = RF_OK;
        if ((rank == 0) == !join) {
            rc = join ? rf_out_lock_join(out) : rf_out_lock_take(out, nranks);
            for (int k = 0; k < n && rc == RF_OK; k++)
                rc = join ? rf_out_lock_join(configs[k].out)
                          : rf_out_lock_take(configs[k].out, nranks);
        }
        if (rf_mpi_agree(rc) != RF_OK) return RF_ERR;
    }
    return RF_OK;
}

/* Rank 0, after a complete sweep: the report's tables on the terminal, OUT/report.csv and
 * OUT/report.md. */
static int write_report(const char *out) {
    char *dirs[1] = {(char *)out};
    rf_report rep;
    int rc = rf_report_collect(1, dirs, &rep);
    if (rc == RF_OK) {
        printf("\n");
        rf_report_print(stdout, &rep);
        rc = rf_report_write_tables(out, &rep);
        rf_report_free(&rep);
    }
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("tables: %s/report.csv, %s/report.md (riverforge report %s draws the plot too)\n", out,
           out, out);
    return RF_EXIT_OK;
}

static int run_sweep(const sweep_flags *f, const rf_sweep *s, int rank, int nranks,
                     double start) {
    rf_run_config *configs = rf_calloc((size_t)s->n, sizeof *configs);
    for (int i = 0; i < s->n; i++) {
        rf_run_config *c = &configs[i];
        snprintf(c->name, sizeof c->name, "%s", s->configs[i].name);
        snprintf(c->out, sizeof c->out, "%.3900s/%s", f->out, c->name);
        c->cfg = s->configs[i].cfg;
        c->sweep = s;
        c->index = i;
    }
    int rc = RF_EXIT_USAGE;
    if (lock_folders(f->out, configs, s->n, rank, nranks) == RF_OK) {
        const rf_run_spec spec = {.model = f->model, .xtx = f->xtx, .only = f->only,
                                  .out = f->out, .overrides = f->override, .vit = &f->vit,
                                  .seed = f->seed, .progress_interval = f->progress_interval,
                                  .eval = &f->eval, .opts = f->opts, .nopts = NUM_OPTS, .nconfigs = s->n,
                                  .configs = configs};
        rc = rf_run_core(&spec, start);
    }
    if (rc == RF_EXIT_OK && rank == 0) rc = write_report(f->out);
    free(configs);
    return rf_mpi_bcast_int(rc);
}

int rf_cmd_sweep(int argc, char **argv) {
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    rf_driver_catch_signals();
    const double start = rf_now();
    sweep_flags f;
    rf_sweep s = {0};
    int rc = parse_flags(argc, argv, rank, &f);
    if (rc == 1) return RF_EXIT_OK;
    if (rc == RF_OK) rc = rf_sweep_parse(f.grid, f.override, &f.cfg, &s);
    if (rc == RF_OK) rc = check_grid_flags(argc, argv, &s);
    if (rc == RF_OK) rc = check_model(&f, &s);
    if (rc != RF_OK) name_flag(argc, argv, &f);
    if (rf_mpi_agree(rc) != RF_OK) {
        rf_sweep_free(&s);
        return RF_EXIT_USAGE;
    }
    if (f.emit)
        rc = rank == 0 ? emit_array(argc, argv, &f, &s) : RF_EXIT_OK;
    else
        rc = run_sweep(&f, &s, rank, nranks, start);
    rf_sweep_free(&s);
    return rc;
}
