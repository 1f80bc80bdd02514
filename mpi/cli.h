/* cli.h -- table-driven flag parsing for the riverforge subcommands.
 *
 * Each subcommand lists its flags as rf_opt rows; rf_cli_parse fills the destinations and
 * reports the first problem as one line naming the flag ("--num_codebooks: 'x' is not an
 * integer", "unknown flag '--epochs' for 'riverforge run' (did you mean --max_epochs?)"). Flags
 * take their value as the next argument or after '='. After the leading "--", '-' and '_' are
 * the same character: --num-codebooks is --num_codebooks and --vit_share is --vit-share (AQLM's
 * main.py writes underscores, most command-line tools dashes; users type both).
 *
 * The kernels name a bad setting by its own name and an id (rf_fail_field in common/rf_error.h:
 * "aqlm.in_group_size", message "in_group_size 7 does not divide in_features 512");
 * rf_cli_flag_error turns that name into the flag that sets it ("--in_group_size 7 ..."). */
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
    const char *field; /* the setting the flag sets, as kernels name it in rf_fail_field
                          ("aqlm.num_codebooks", "gen.kind"); NULL when none */
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

/* Returns RF_OK, RF_ERR (message set), or 1 when --help/-h was given. An unknown flag's message
 * suggests the nearest flag of opts when one is close. */
int rf_cli_parse(int argc, char **argv, const char *command, const rf_opt *opts, int nopts);
/* True when argv holds FLAG in either spelling (as "--flag" or "--flag=..."), for defaults that
 * depend on it. */
int rf_cli_has(int argc, char **argv, const char *flag);
/* FLAG's value in argv (the last one given, either spelling), or NULL. */
const char *rf_cli_value(int argc, char **argv, const char *flag);
/* After a failed validation: when the recorded error is about a setting one of opts sets
 * (rf_error_field() equals its field), rewrites the first whole-word occurrence of the setting's
 * short name (the part after the dot) in the message into the flag ("...: in_group_size 32 does
 * not divide in_features 16" -> "...: --in_group_size 32 does not divide in_features 16").
 * Other messages stay as they are. Returns RF_ERR: `return rf_cli_flag_error(opts, n);`. */
int rf_cli_flag_error(const rf_opt *opts, int nopts);
/* Lists the flags with their current values as defaults, except flags whose help says
 * "(required)". */
void rf_cli_help(FILE *f, const char *usage, const char *description, const rf_opt *opts,
                 int nopts);

#endif
