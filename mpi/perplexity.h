/* perplexity.h -- the perplexity of a decoder on the non-overlapping seqlen windows of a token
 * file, over MPI ranks: what `eval` prints and what `run`/`sweep --eval-tokens` record.
 *
 * Perplexity = exp(mean over every predicted position (T-1 per window) of -log p(next token)).
 * Rank r takes the contiguous block of windows [r*n/R, (r+1)*n/R); each window's NLL sum (double)
 * goes to rank 0 in window order, which adds them in that order: the figures are the same bits
 * for any rank count at the same OMP_NUM_THREADS. */
#ifndef RF_PERPLEXITY_H
#define RF_PERPLEXITY_H

#include <stdint.h>

#include "io/decoder_model.h"
#include "io/tokens.h"

typedef struct {
    double nll;       /* mean NLL per predicted token; perplexity = exp(nll) */
    int64_t tokens;   /* predicted positions */
    int nquantized;   /* matrices taken from the checkpoint */
} rf_perplexity;

/* The windows a file of tok->n tokens gives at seqlen: every whole one, at most nsamples (> 0). */
int64_t rf_perplexity_windows(const rf_tokens *tok, int seqlen, int nsamples);

/* Collective: windows [0, nseq) of tok through m; rank 0 gets the figures in *out and, when dump
 * is set, writes the gathered logits [nseq, T, V] there (float32 safetensors "logits"). Returns
 * RF_OK or RF_ERR on every rank (rank 0 printed the line) when a layer cannot load or the logits
 * cannot be written. */
int rf_perplexity_run(const rf_dec_model *m, const rf_tokens *tok, int T, int64_t nseq,
                      const char *dump, rf_perplexity *out);

#endif
