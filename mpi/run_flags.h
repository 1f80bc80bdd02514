/* run_flags.h -- the flags of `riverforge run` and what they default to, with and without --model
 * (without it, the embedded default: a synthetic model written into OUT/default-model, a quick
 * AQLM configuration and a shared vision block). */
#ifndef RF_RUN_FLAGS_H
#define RF_RUN_FLAGS_H

#include <stdint.h>

#include "mpi/cli.h"
#include "mpi/run_eval.h"

/* The embedded model's vision tower has 4 blocks; its run shares block 3 with block 2. */
#define RF_EMBEDDED_VIT_SHARE "2:3"

enum { RF_RUN_NUM_OPTS = 7 + RF_AQLM_NUM_OPTS + RF_VIT_NUM_OPTS + RF_EVAL_NUM_OPTS };

typedef struct {
    const char *model, *out, *xtx, *only, *device;
    rf_aqlm_config cfg;
    rf_cli_vit vit_flags;
    rf_vit_share vit;
    rf_eval_flags eval;
    uint64_t seed;
    double progress_interval;
    int embedded;                  /* no --model: the embedded default */
    rf_opt opts[RF_RUN_NUM_OPTS];  /* the table parsed, for naming a flag in later errors */
} rf_run_flags;

/* Parses argv (argv[0] is "run"). Returns RF_OK, RF_ERR (one line naming the flag), or 1 when
 * --help was given (printed by rank 0 only: every rank parses). */
int rf_run_flags_parse(int argc, char **argv, int rank, rf_run_flags *f);

#endif
