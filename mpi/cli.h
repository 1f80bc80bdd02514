/* cli.h -- table-driven flag parsing for the riverforge subcommands.
 *
 * Each subcommand lists its flags as rf_opt rows; rf_cli_parse fills the destinations and
 * reports the first problem as one line naming the flag ("--num_codebooks: 'x' is not an
 * integer", "unknown flag --foo for 'riverforge run'"). Flags take their value as the next
 * argument or after '='. */
#ifndef RF_CLI_H
#define RF_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "kernels/aqlm/aqlm.h"
#include "shards/vit_share.h"

typedef enum { RF_OPT_STRING, RF_OPT_INT, RF_OPT_DOUBLE, RF_OPT_U64 } rf_opt_kind;

typedef struct {
    const char *name;  /* "--num_codebooks" */
    rf_opt_kind kind;
    void *dst;         /* const char **, int *, double *, uint64_t * */
    const char *metavar;
    const char *help;
} rf_opt;

#define RF_AQLM_NUM_OPTS 11
/* The AQLM flags (named as in AQLM's main.py), writing into cfg. */
void rf_cli_aqlm_opts(rf_aqlm_config *cfg, rf_opt opts[RF_AQLM_NUM_OPTS]);

/* The block-sharing flags of run and plan: --vit-share, --vit-generator and the generator's
 * --gen-* settings, whose defaults depend on the generator (read from argv first, so that --help
 * shows the right ones). */
typedef struct {
    const char *share;     /* NULL: no sharing */
    const char *generator;
    rf_gen_config gen;
    const char *orphan;    /* a generator flag given (argv), which needs --vit-share */
} rf_cli_vit;

#define RF_VIT_NUM_OPTS 8
void rf_cli_vit_opts(rf_cli_vit *v, int argc, char **argv, rf_opt opts[RF_VIT_NUM_OPTS]);
/* After rf_cli_parse: vs (npairs = 0 without --vit-share); RF_ERR with a line naming the flag
 * (also for a generator flag without --vit-share: it would do nothing). */
int rf_cli_vit_finish(const rf_cli_vit *v, rf_vit_share *vs);

/* Returns RF_OK, RF_ERR (message set), or 1 when --help/-h was given. */
int rf_cli_parse(int argc, char **argv, const char *command, const rf_opt *opts, int nopts);
/* True when argv holds FLAG (as "--flag" or "--flag=..."), for defaults that depend on it. */
int rf_cli_has(int argc, char **argv, const char *flag);
/* FLAG's value in argv (the last one given), or NULL. */
const char *rf_cli_value(int argc, char **argv, const char *flag);
/* Lists the flags with their current values as defaults, except flags whose help says
 * "(required)". */
void rf_cli_help(FILE *f, const char *usage, const char *description, const rf_opt *opts,
                 int nopts);

#endif
