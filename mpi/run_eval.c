/* run_eval.c -- see run_eval.h. */
#include "mpi/run_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "mpi/rf_mpi.h"

void rf_eval_opts(rf_eval_flags *f, rf_opt *opts) {
    f->tokens = NULL;
    f->seqlen = 2048;
    f->nsamples = 0;
    const rf_opt own[RF_EVAL_NUM_OPTS] = {
        {"--eval-tokens", RF_OPT_STRING, &f->tokens, "FILE", "after assembly: the checkpoint's and the dense model's perplexity on these uint32 token ids, into summary.json"},
        {"--eval-seqlen", RF_OPT_INT, &f->seqlen, "N", "--eval-tokens: tokens per window (non-overlapping)", "tokens.seqlen"},
        {"--eval-nsamples", RF_OPT_INT, &f->nsamples, "N", "--eval-tokens: at most N windows (0: every whole window)"},
    };
    for (int i = 0; i < RF_EVAL_NUM_OPTS; i++) opts[i] = own[i];
}

int rf_eval_flags_check(const rf_eval_flags *f) {
    if (f->seqlen < 2) return rf_fail("--eval-seqlen %d: at least 2 tokens", f->seqlen);
    if (f->nsamples < 0) return rf_fail("--eval-nsamples %d: not negative", f->nsamples);
    return RF_OK;
}

int rf_run_eval_open(rf_run_eval *e, const rf_eval_flags *f, const char *model) {
    *e = (rf_run_eval){.flags = f, .model = model};
    if (rf_dec_model_open(&e->dense, model, NULL) != RF_OK)
        return rf_fail_prefix("--eval-tokens needs a model the forward pass reads: ");
    if (rf_tokens_open(&e->tok, f->tokens, e->dense.cfg.vocab, f->seqlen) != RF_OK)
        return rf_fail_prefix("--eval-tokens: ");
    e->nseq = rf_perplexity_windows(&e->tok, f->seqlen, f->nsamples);
    return RF_OK;
}

void rf_run_eval_close(rf_run_eval *e) {
    rf_tokens_close(&e->tok);
    rf_dec_model_close(&e->dense);
}

static rf_summary_eval wanted(const rf_run_eval *e) {
    return (rf_summary_eval){.tokens = e->flags->tokens, .seqlen = e->flags->seqlen,
                             .sequences = e->nseq};
}

int rf_run_eval_kept(const rf_run_eval *e, const char *out, int computed_now,
                     rf_summary_eval *got) {
    const rf_summary_eval want = wanted(e);
    return !computed_now && rf_summary_find_eval(out, &want, got);
}

/* Collective: the checkpoint in out through the forward pass; rank 0 gets its figures. */
static int quantized(const rf_run_eval *e, const char *out, rf_perplexity *q) {
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", out);
    rf_dec_model m = {0};
    int rc = rf_mpi_agree(rf_dec_model_open(&m, e->model, ckpt));
    if (rc == RF_OK) rc = rf_perplexity_run(&m, &e->tok, e->flags->seqlen, e->nseq, NULL, q);
    rf_dec_model_close(&m);
    return rc;
}

int rf_run_eval_finish(rf_run_eval *e, int nconfigs, const char *const *outs,
                       const char *const *names, const int *kept, rf_summary_eval *got) {
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    double dense = NAN; /* rank 0: a kept summary's, else computed below */
    int need_dense = 1;
    for (int k = 0; k < nconfigs; k++)
        if (kept[k]) dense = got[k].dense_perplexity, need_dense = 0;
    int rc = RF_OK;
    need_dense = rf_mpi_bcast_int(need_dense);
    for (int k = 0; k < nconfigs && rc == RF_OK; k++) {
        if (rf_mpi_bcast_int(kept[k])) continue;
        if (need_dense) {
            rf_perplexity d = {0};
            rc = rf_perplexity_run(&e->dense, &e->tok, e->flags->seqlen, e->nseq, NULL, &d);
            dense = exp(d.nll);
            need_dense = 0;
        }
        rf_perplexity q = {0};
        if (rc == RF_OK) rc = quantized(e, outs[k], &q);
        got[k] = wanted(e);
        got[k].predicted = q.tokens;
        got[k].perplexity = exp(q.nll);
        got[k].dense_perplexity = dense;
    }
    if (rc != RF_OK) return rc; /* every rank; the line is printed */
    for (int k = 0; k < nconfigs && rc == RF_OK && rank == 0; k++) {
        const rf_summary_eval *g = &got[k];
        /* kept figures too: finish rewrote the summary without them */
        if (rf_summary_add_eval(outs[k], g) != RF_OK) {
            fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
            rc = RF_ERR;
            break;
        }
        printf("riverforge: %s%sperplexity %.6f (dense %.6f, ratio %.4f) on %lld windows of %d "
               "tokens of %s (%lld predicted)%s\n", names[k], names[k][0] ? ": " : "",
               g->perplexity, g->dense_perplexity, g->perplexity / g->dense_perplexity,
               (long long)g->sequences, g->seqlen, g->tokens, (long long)g->predicted,
               kept[k] ? ", as recorded" : "");
    }
    return rf_mpi_bcast_int(rc);
}
