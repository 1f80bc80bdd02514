/* perplexity.c -- see perplexity.h. */
#include "mpi/perplexity.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "io/safetensors.h"
#include "mpi/forward_pass.h"
#include "mpi/rf_mpi.h"

int64_t rf_perplexity_windows(const rf_tokens *tok, int seqlen, int nsamples) {
    const int64_t n = tok->n / seqlen;
    return nsamples > 0 && nsamples < n ? nsamples : n;
}

int rf_perplexity_run(const rf_dec_model *m, const rf_tokens *tok, int T, int64_t nseq,
                      const char *dump, rf_perplexity *out) {
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    const rf_dec_config *c = &m->cfg;
    int64_t first = nseq * rank / nranks, count = nseq * (rank + 1) / nranks - first;
    float *embed, *norm, *head;
    int rc = rf_dec_model_globals(m, &embed, &norm, &head);
    rf_forward f = {.m = m, .embed = embed, .count = count, .T = T};
    rf_forward_ids(&f, tok, 0, first);
    float *x = rc == RF_OK ? rf_forward_run(&f) : NULL;
    if (rf_mpi_agree(x ? RF_OK : RF_ERR) != RF_OK) rc = RF_ERR;
    double *seq_nll = rf_calloc((size_t)count + 1, sizeof(double));
    double *nll = rf_malloc((size_t)T * sizeof(double));
    float *logits = dump ? rf_malloc((size_t)(count * T * c->vocab + 1) * sizeof(float)) : NULL;
    for (int64_t s = 0; s < count && rc == RF_OK; s++) {
        rf_dec_head(c, norm, head, x + s * T * c->hidden, T, f.ids + s * T, nll,
                    logits ? logits + s * T * c->vocab : NULL);
        for (int t = 0; t < T - 1; t++) seq_nll[s] += nll[t];
    }
    size_t bytes;
    double *all = rc == RF_OK ? rf_mpi_gather_bytes(seq_nll, (size_t)count * sizeof(double), &bytes)
                              : NULL;
    float *all_logits = rc == RF_OK && dump
                            ? rf_mpi_gather_bytes(logits, (size_t)(count * T * c->vocab) * sizeof(float),
                                                  &bytes)
                            : NULL;
    if (rank == 0 && rc == RF_OK) {
        double sum = 0;
        for (int64_t s = 0; s < nseq; s++) sum += all[s];
        out->tokens = nseq * (T - 1);
        out->nll = sum / (double)out->tokens;
        out->nquantized = f.nquantized;
        if (dump) {
            rf_st_entry e = {.name = "logits", .dtype = RF_DTYPE_F32, .ndim = 3,
                             .shape = {nseq, T, c->vocab}, .data = all_logits};
            if (rf_st_write(dump, &e, 1) != RF_OK) {
                rc = RF_ERR;
                fprintf(stderr, "riverforge: error: --dump-logits: %s\n", rf_last_error());
            }
        }
    }
    rc = rf_mpi_bcast_int(rc);
    free(all_logits), free(all), free(logits), free(nll), free(seq_nll), free(x), free(f.ids);
    if (head != embed) free(head);
    free(embed), free(norm);
    return rc;
}
