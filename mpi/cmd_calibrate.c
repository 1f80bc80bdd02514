/* cmd_calibrate.c -- `riverforge calibrate --model DIR --tokens FILE --out xtx.h5`: calibration
 * statistics XTX = X^T X / N of the four distinct inputs of every layer's matrices (q/k/v share
 * one, gate/up share one, o_proj, down_proj), from the model's own forward pass over the token
 * file's windows, written in the --xtx format of docs/formats.md (hard links for shared inputs).
 *
 * Ranks split the sequences and run the model layer by layer over their share. The sums are
 * float64 and their order is fixed whatever the rank count: the sequences form nchunks =
 * min(sequences, 64) contiguous chunks; a chunk's sum adds its sequences in order (dsyrk, from
 * zero), each rank owns whole chunks, and rank 0 adds the chunk sums in chunk order (its own as
 * they finish, then the others' as they arrive). The same OMP_NUM_THREADS gives the same file,
 * byte for byte, for any number of ranks up to 64; more ranks than chunks leave some idle.
 *
 * Memory: every rank holds its sequences' hidden states, one layer and one chunk's sums (the
 * four in^2 float64 matrices); rank 0 also holds every layer's sums until the file is written
 * (the size of the output file). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/decoder_model.h"
#include "io/tokens.h"
#include "io/xtx_file.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "mpi/forward_pass.h"
#include "mpi/rf_mpi.h"
#include "mpi/threads.h"

enum { MAX_CHUNKS = 64 };

typedef struct {
    int rank, nranks, nlayers, layer;
    int64_t nseq, nchunks, T;
    int64_t chunk, chunk_end; /* this rank's current chunk and the end of its chunks */
    int64_t seq;              /* the global index of the next sequence this rank finishes */
    int dims[RF_TAP_COUNT];
    double *acc[RF_TAP_COUNT]; /* the current chunk's sums [in, in] (upper triangle) */
    double *xd;                /* one tap input in float64 [T, max in] */
    double **total;            /* rank 0: [layer * 4 + tap] sums over every chunk */
    double start;
} calib;

static int64_t chunk_start(const calib *c, int64_t k) { return c->nseq * k / c->nchunks; }
static int64_t rank_chunk(const calib *c, int r) { return c->nchunks * r / c->nranks; }

static int64_t size2(const calib *c, int t) { return (int64_t)c->dims[t] * c->dims[t]; }

static void fold(calib *c, double *const chunk[RF_TAP_COUNT]) {
    for (int t = 0; t < RF_TAP_COUNT; t++) {
        double *dst = c->total[c->layer * RF_TAP_COUNT + t];
        for (int64_t i = 0; i < size2(c, t); i++) dst[i] += chunk[t][i];
    }
}

/* A chunk of this rank is complete: rank 0 adds it (its chunks come first), the others send it. */
static void chunk_done(calib *c) {
    if (c->rank == 0) {
        fold(c, c->acc);
    } else {
        for (int t = 0; t < RF_TAP_COUNT; t++) rf_mpi_send_doubles(c->acc[t], size2(c, t), 0);
    }
    for (int t = 0; t < RF_TAP_COUNT; t++) memset(c->acc[t], 0, (size_t)size2(c, t) * sizeof(double));
    c->chunk++;
}

static void tap(void *ctx, rf_dec_tap t, const float *x, int64_t rows, int cols) {
    calib *c = ctx;
    for (int64_t i = 0; i < rows * cols; i++) c->xd[i] = x[i];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, (int)rows, 1.0, c->xd, cols, 1.0,
                c->acc[t], cols);
    if (t != RF_TAP_DOWN) return; /* the last input of a sequence's layer */
    c->seq++;
    if (c->seq == chunk_start(c, c->chunk + 1)) chunk_done(c);
}

static void layer_done(void *ctx, int layer, double tokens_per_s) {
    calib *c = ctx;
    if (c->rank == 0) { /* the other ranks' chunks, in chunk order */
        double *buf[RF_TAP_COUNT];
        for (int t = 0; t < RF_TAP_COUNT; t++) buf[t] = rf_malloc((size_t)size2(c, t) * sizeof(double));
        int r = 1;
        for (int64_t k = rank_chunk(c, 1); k < c->nchunks; k++) {
            while (k >= rank_chunk(c, r + 1)) r++;
            for (int t = 0; t < RF_TAP_COUNT; t++) rf_mpi_recv_doubles(buf[t], size2(c, t), r);
            fold(c, buf);
        }
        for (int t = 0; t < RF_TAP_COUNT; t++) free(buf[t]);
        double elapsed = rf_now() - c->start;
        fprintf(stderr, "riverforge calibrate: layer %d/%d  %lld sequences  %.0f tokens/s per layer (rank 0)  "
                "ETA %.0f s\n", layer + 1, c->nlayers, (long long)c->nseq, tokens_per_s,
                elapsed / (layer + 1) * (c->nlayers - layer - 1));
    }
    c->layer++;
    c->chunk = rank_chunk(c, c->rank);
    c->seq = chunk_start(c, c->chunk);
}

/* Rank 0: XTX = sums / N, both triangles; then the file, with hard links for shared inputs
 * (its error printed here: the other ranks learn of it from rank 0). */
static int write_xtx(calib *c, const rf_dec_model *m, const char *out) {
    int64_t N = c->nseq * c->T, n = 7 * (int64_t)c->nlayers;
    for (int64_t k = 0; k < (int64_t)c->nlayers * RF_TAP_COUNT; k++) {
        int d = c->dims[k % RF_TAP_COUNT];
        double *x = c->total[k];
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++) x[(int64_t)j * d + i] = x[(int64_t)i * d + j] /= (double)N;
    }
    char (*names)[7][256] = rf_malloc((size_t)c->nlayers * sizeof *names);
    const char **np = rf_malloc((size_t)n * sizeof *np);
    const double **xp = rf_malloc((size_t)n * sizeof *xp);
    int64_t *in = rf_malloc((size_t)n * sizeof *in);
    static const rf_dec_tap input_of[7] = {RF_TAP_QKV,     RF_TAP_QKV,     RF_TAP_QKV, RF_TAP_O,
                                           RF_TAP_GATE_UP, RF_TAP_GATE_UP, RF_TAP_DOWN};
    for (int L = 0; L < c->nlayers; L++) {
        rf_dec_model_matrix_names(m, L, names[L]);
        for (int i = 0; i < 7; i++) {
            np[L * 7 + i] = names[L][i];
            xp[L * 7 + i] = c->total[L * RF_TAP_COUNT + input_of[i]];
            in[L * 7 + i] = c->dims[input_of[i]];
        }
    }
    int rc = rf_xtx_write(out, (int)n, np, xp, in, N);
    if (rc != RF_OK) fprintf(stderr, "riverforge: error: --out: %s\n", rf_last_error());
    free(in), free(xp), free(np), free(names);
    return rc;
}

static int calibrate(const rf_dec_model *m, const rf_tokens *tok, int T, int64_t nseq,
                     uint64_t seed, int rank, int nranks, const char *out) {
    const rf_dec_config *dc = &m->cfg;
    calib c = {.rank = rank, .nranks = nranks, .nlayers = m->nlayers, .nseq = nseq, .T = T,
               .nchunks = nseq < MAX_CHUNKS ? nseq : MAX_CHUNKS, .start = rf_now(),
               .dims = {dc->hidden, dc->heads * dc->head_dim, dc->hidden, dc->intermediate}};
    c.chunk = rank_chunk(&c, rank);
    c.chunk_end = rank_chunk(&c, rank + 1);
    c.seq = chunk_start(&c, c.chunk);
    int maxd = 0;
    for (int t = 0; t < RF_TAP_COUNT; t++) {
        c.acc[t] = rf_calloc((size_t)size2(&c, t), sizeof(double));
        maxd = c.dims[t] > maxd ? c.dims[t] : maxd;
    }
    c.xd = rf_malloc((size_t)T * maxd * sizeof(double));
    if (rank == 0) {
        c.total = rf_malloc((size_t)c.nlayers * RF_TAP_COUNT * sizeof *c.total);
        for (int k = 0; k < c.nlayers * RF_TAP_COUNT; k++)
            c.total[k] = rf_calloc((size_t)size2(&c, k % RF_TAP_COUNT), sizeof(double));
    }
    float *embed, *norm;
    int rc = rf_dec_model_globals(m, &embed, &norm, NULL);
    rf_forward f = {.m = m, .embed = embed, .T = T, .tap = tap, .ctx = &c, .layer_done = layer_done,
                    .count = chunk_start(&c, c.chunk_end) - c.seq};
    rf_forward_ids(&f, tok, seed, c.seq);
    float *x = rc == RF_OK ? rf_forward_run(&f) : NULL;
    rc = rf_mpi_agree(x ? RF_OK : RF_ERR);
    if (rc == RF_OK && rank == 0) rc = write_xtx(&c, m, out);
    rc = rf_mpi_bcast_int(rc);
    for (int k = 0; rank == 0 && k < c.nlayers * RF_TAP_COUNT; k++) free(c.total[k]);
    for (int t = 0; t < RF_TAP_COUNT; t++) free(c.acc[t]);
    free(c.total), free(c.xd), free(x), free(f.ids), free(embed), free(norm);
    return rc;
}

int rf_cmd_calibrate(int argc, char **argv) {
    int rank, nranks;
    rf_mpi_setup(&rank, &nranks);
    const char *model = NULL, *tokens = NULL, *out = NULL;
    int seqlen = 4096, nsamples = 0;
    uint64_t seed = 0;
    rf_opt opts[] = {
        {"--model", RF_OPT_STRING, &model, "DIR", "Hugging Face model directory (required)"},
        {"--tokens", RF_OPT_STRING, &tokens, "FILE", "little-endian uint32 token ids (required)"},
        {"--out", RF_OPT_STRING, &out, "FILE.h5", "the XTX file to write (required)"},
        {"--seqlen", RF_OPT_INT, &seqlen, "N", "tokens per sequence"},
        {"--nsamples", RF_OPT_INT, &nsamples, "N", "sequences (0: every whole window)"},
        {"--seed", RF_OPT_U64, &seed, "S", "random windows drawn from S (0: the first windows)"},
    };
    const int nopts = sizeof opts / sizeof opts[0];
    int rc = rf_cli_parse(argc, argv, "calibrate", opts, nopts);
    if (rc == 1) {
        if (rank == 0)
            rf_cli_help(stdout, "riverforge calibrate --model DIR --tokens FILE --out FILE.h5",
                        "XTX = X^T X / N of the inputs of every layer's matrices, from the model's\n"
                        "forward pass over --nsamples windows of --seqlen tokens (for run --xtx).",
                        opts, nopts);
        return RF_EXIT_OK;
    }
    if (rc == RF_OK && (!model || !tokens || !out))
        rc = rf_fail("--model DIR, --tokens FILE and --out FILE.h5 are required");
    if (rc == RF_OK && seqlen < 1) rc = rf_fail("--seqlen %d: at least 1 token", seqlen);
    if (rc == RF_OK && nsamples < 0) rc = rf_fail("--nsamples %d: not negative", nsamples);
    if (rc == RF_OK && seed && !nsamples) rc = rf_fail("--seed needs --nsamples N (random windows)");
    if (rf_mpi_agree(rc) != RF_OK) return RF_EXIT_USAGE;
    rf_choose_threads(rank, rf_mpi_ranks_on_node());

    rf_dec_model m = {0};
    rf_tokens tok = {0};
    rc = rf_dec_model_open(&m, model, NULL);
    if (rc == RF_OK) rc = rf_tokens_open(&tok, tokens, m.cfg.vocab, seqlen);
    int64_t nseq = seed ? nsamples : tok.n / seqlen;
    if (rc == RF_OK && !seed && nsamples > nseq)
        rc = rf_fail("--nsamples %d: %s holds %lld windows of %d tokens", nsamples, tokens,
                     (long long)nseq, seqlen);
    if (nsamples) nseq = nsamples;
    if (rf_mpi_agree(rc) == RF_OK) {
        rc = calibrate(&m, &tok, seqlen, nseq, seed, rank, nranks, out); /* errors printed */
        if (rc == RF_OK && rank == 0)
            printf("riverforge calibrate: wrote %s (%d layers, %lld sequences of %d tokens)\n", out,
                   m.nlayers, (long long)nseq, seqlen);
    } else {
        rc = RF_ERR;
    }
    rf_tokens_close(&tok);
    rf_dec_model_close(&m);
    return rc == RF_OK ? RF_EXIT_OK : RF_EXIT_USAGE;
}
