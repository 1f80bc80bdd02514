/* cmd_eval.c -- `riverforge eval --model DIR [--checkpoint FILE.h5] --tokens FILE [--seqlen N]`:
 * perplexity of the dense model and, with --checkpoint, of the quantized one (its AQLM matrices
 * dequantized per layer), on the non-overlapping --seqlen windows of a token file.
 *
 * The figures come from mpi/perplexity.h, which run and sweep --eval-tokens share. --dump-logits
 * writes rank 0's gathered logits [windows, T, V] (float32 safetensors "logits") for checks
 * against other implementations. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/decoder_model.h"
#include "io/tokens.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "mpi/perplexity.h"
#include "mpi/rf_mpi.h"
#include "mpi/threads.h"

static void print_figures(int json, int64_t nseq, int T, int nranks, const rf_perplexity *d,
                          const rf_perplexity *q, const char *ckpt) {
    if (json) {
        json_t *o = json_pack("{s:f, s:f, s:I, s:I}", "perplexity", exp(d->nll), "nll", d->nll,
                              "tokens", (json_int_t)d->tokens, "sequences", (json_int_t)nseq);
        if (q)
            json_object_set_new(o, "quantized",
                                json_pack("{s:f, s:f, s:f, s:i, s:s}", "perplexity", exp(q->nll),
                                          "nll", q->nll, "ratio", exp(q->nll - d->nll),
                                          "matrices", q->nquantized, "checkpoint", ckpt));
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return;
    }
    printf("riverforge eval: %lld sequences of %d tokens (%lld predicted), %d rank%s\n",
           (long long)nseq, T, (long long)d->tokens, nranks, nranks > 1 ? "s" : "");
    printf("  dense      perplexity %.6f  (nll %.6f)\n", exp(d->nll), d->nll);
    if (q)
        printf("  quantized  perplexity %.6f  (nll %.6f)  ratio %.4f  (%d matrices from %s)\n",
               exp(q->nll), q->nll, exp(q->nll - d->nll), q->nquantized, ckpt);
}

int rf_cmd_eval(int argc, char **argv) {
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    const char *model = NULL, *ckpt = NULL, *tokens = NULL, *dump = NULL;
    int seqlen = 2048, nsamples = 0, json = 0;
    rf_opt opts[] = {
        {"--model", RF_OPT_STRING, &model, "DIR", "Hugging Face model directory (required)"},
        {"--tokens", RF_OPT_STRING, &tokens, "FILE", "little-endian uint32 token ids (required)"},
        {"--checkpoint", RF_OPT_STRING, &ckpt, "FILE.h5", "also evaluate this quantized checkpoint"},
        {"--seqlen", RF_OPT_INT, &seqlen, "N", "tokens per sequence (non-overlapping windows)", "tokens.seqlen"},
        {"--nsamples", RF_OPT_INT, &nsamples, "N", "at most N sequences (0: every whole window)"},
        {"--dump-logits", RF_OPT_STRING, &dump, "FILE", "write the dense logits [seqs, T, V] "
                                                        "(safetensors, float32; small checks)"},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    /* --json takes no value, which the flag table cannot say: taken out of argv first */
    int kept = 0;
    for (int i = 0; i < argc; i++)
        if (i == 0 || strcmp(argv[i], "--json")) argv[kept++] = argv[i];
        else json = 1;
    argc = kept;
    int rc = rf_cli_parse(argc, argv, "eval", opts, nopts);
    if (rc == 1) {
        if (rank == 0)
            rf_cli_help(stdout, "riverforge eval --model DIR --tokens FILE [--checkpoint FILE.h5]",
                        "Perplexity of the model (and of the quantized checkpoint) on the\n"
                        "non-overlapping --seqlen windows of a token file. --json prints\n"
                        "the figures as JSON.", opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && (!model || !tokens)) rc = rf_fail("--model DIR and --tokens FILE are required");
    if (rc == RF_OK && seqlen < 2) rc = rf_fail("--seqlen %d: at least 2 tokens", seqlen);
    if (rc == RF_OK && nsamples < 0) rc = rf_fail("--nsamples %d: not negative", nsamples);
    if (rf_mpi_agree(rc) != RF_OK) return RF_EXIT_USAGE;
    rf_choose_threads(rank, rf_mpi_ranks_on_node());

    rf_dec_model dense = {0}, quant = {0};
    rf_tokens tok = {0};
    rc = rf_dec_model_open(&dense, model, NULL);
    if (rc == RF_OK && (rc = rf_tokens_open(&tok, tokens, dense.cfg.vocab, seqlen)) != RF_OK)
        rf_cli_flag_error(opts, nopts); /* a short file: named as --seqlen */
    if (rc == RF_OK && ckpt) rc = rf_dec_model_open(&quant, model, ckpt);
    if (rf_mpi_agree(rc) != RF_OK) {
        rf_tokens_close(&tok);
        rf_dec_model_close(&dense);
        return RF_EXIT_USAGE;
    }
    const int64_t nseq = rf_perplexity_windows(&tok, seqlen, nsamples);

    rf_perplexity d = {0}, q = {0};
    rc = rf_perplexity_run(&dense, &tok, seqlen, nseq, dump, &d);
    if (rc == RF_OK && ckpt) rc = rf_perplexity_run(&quant, &tok, seqlen, nseq, NULL, &q);
    if (rc == RF_OK && rank == 0) print_figures(json, nseq, seqlen, nranks, &d, ckpt ? &q : NULL, ckpt);
    rf_tokens_close(&tok);
    rf_dec_model_close(&quant);
    rf_dec_model_close(&dense);
    return rc == RF_OK ? RF_EXIT_OK : RF_EXIT_USAGE;
}
