/* run_eval.h -- `run` and `sweep --eval-tokens FILE [--eval-seqlen N] [--eval-nsamples N]`: the
 * perplexity of each configuration's checkpoint, and of the dense model once per run, on the
 * token file's windows (mpi/perplexity.h, the code path of `eval --checkpoint`), recorded in the
 * configuration's summary.json (io/summary.h: rf_summary_add_eval).
 *
 *   open    before any quantization work: the model's config.json and tensors as the forward pass
 *           reads them (an unsupported model is refused with the reason) and the token file (size,
 *           ids < vocab, at least one window), so that a bad file stops the run at once
 *   resume  a configuration whose summary already records figures for the same file, seqlen and
 *           windows, and whose shards were all done before this run, keeps them
 *   compute the dense figure when some configuration needs a figure and no kept summary has it,
 *           then each configuration's that is missing */
#ifndef RF_RUN_EVAL_H
#define RF_RUN_EVAL_H

#include "io/decoder_model.h"
#include "io/summary.h"
#include "io/tokens.h"
#include "mpi/cli.h"
#include "mpi/perplexity.h"

typedef struct {
    const char *tokens; /* NULL: no evaluation */
    int seqlen, nsamples;
} rf_eval_flags;

enum { RF_EVAL_NUM_OPTS = 3 };

/* The three flags' rows into opts (and their defaults into f). */
void rf_eval_opts(rf_eval_flags *f, rf_opt *opts);
/* After parsing: RF_ERR with one line naming the flag. */
int rf_eval_flags_check(const rf_eval_flags *f);

typedef struct {
    const rf_eval_flags *flags;
    const char *model;
    rf_dec_model dense;
    rf_tokens tok;
    int64_t nseq;
} rf_run_eval;

/* Per rank: opens the model for the forward pass and the token file. RF_ERR with one line naming
 * the file or the reason. */
int rf_run_eval_open(rf_run_eval *e, const rf_eval_flags *f, const char *model);
void rf_run_eval_close(rf_run_eval *e);

/* Rank 0, before the run's finish rewrites the summaries: into *got, configuration folder out's
 * recorded figures when they can be kept (computed_now: some of its shards were computed in this
 * run, so its checkpoint is new). Returns 1 when kept. */
int rf_run_eval_kept(const rf_run_eval *e, const char *out, int computed_now, rf_summary_eval *got);

/* Collective, once every configuration's checkpoint is assembled: configuration k (folder
 * outs[k], named names[k], "" for a run) gets the figures in got[k] when kept[k] (rank 0's
 * values count), else computes them; rank 0 adds them to each summary.json (rewritten by the
 * finish, kept figures too) and prints them.
 * Returns RF_OK, or RF_ERR on every rank with its line printed once. */
int rf_run_eval_finish(rf_run_eval *e, int nconfigs, const char *const *outs,
                       const char *const *names, const int *kept, rf_summary_eval *got);

#endif
