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
 * Layer by layer: once a layer is reduced, rank 0 writes it to OUT.partial/layer-N.h5
 * (io/xtx_partial.h) and drops its sums; at the end it copies the layers into OUT.tmp one at a
 * time and renames it to OUT. SIGUSR1/SIGTERM stop the ranks after the next layer is written
 * (exit 3); a rerun with the same inputs (fingerprints of the model, its config.json and the
 * token file, and the flags) resumes at the first missing layer. The layers before it run again
 * without taps: recomputing their hidden states costs a forward pass without the dsyrk (which
 * is most of a layer's time for small --seqlen), where saving them would write every rank's
 * hidden states per layer ([sequences, seqlen, hidden] float32, gigabytes) and tie the resume to
 * the rank count.
 *
 * Memory of a rank: predicted (mpi/calibrate_memory.h) and checked against the node before any
 * work. */
#include <cblas.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "io/decoder_model.h"
#include "io/tokens.h"
#include "io/xtx_partial.h"
#include "io/xtx_file.h"
#include "mpi/calibrate_memory.h"
#include "mpi/cli.h"
#include "mpi/commands.h"
#include "mpi/driver.h"
#include "mpi/forward_pass.h"
#include "mpi/rf_mpi.h"
#include "mpi/threads.h"
#include "shards/manifest.h"
#include "shards/out_lock.h"
#include "shards/tasks.h"

typedef struct {
    const rf_dec_model *m;
    const char *dir;           /* OUT.partial */
    int rank, nranks, nlayers, first; /* first: the first layer whose sums this run computes */
    int64_t nseq, nchunks, T;
    int64_t chunk, chunk_end; /* this rank's current chunk and the end of its chunks */
    int64_t seq;              /* the global index of the next sequence this rank finishes */
    int dims[RF_TAP_COUNT];
    double *acc[RF_TAP_COUNT]; /* the current chunk's sums [in, in] (upper triangle) */
    double *xd;                /* one tap input in float64 [T, max in] */
    double *total[RF_TAP_COUNT]; /* rank 0: the current layer's sums over every chunk */
    int failed;                /* a layer file could not be written (every rank knows) */
    double start;
} calib;

static int64_t chunk_start(const calib *c, int64_t k) { return c->nseq * k / c->nchunks; }
static int64_t rank_chunk(const calib *c, int r) { return c->nchunks * r / c->nranks; }

static int64_t size2(const calib *c, int t) { return (int64_t)c->dims[t] * c->dims[t]; }

static void fold(calib *c, double *const chunk[RF_TAP_COUNT]) {
    for (int t = 0; t < RF_TAP_COUNT; t++) {
        double *dst = c->total[t];
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

static const rf_dec_tap input_of[7] = {RF_TAP_QKV,     RF_TAP_QKV,     RF_TAP_QKV, RF_TAP_O,
                                       RF_TAP_GATE_UP, RF_TAP_GATE_UP, RF_TAP_DOWN};

/* Rank 0: layer L's entries (names, the sums' pointers, in_features) as rf_xtx_write takes them,
 * and the path of its file in OUT.partial. */
typedef struct {
    char names[7][256], path[4200]; /* path: the layer's file in OUT.partial */
    const char *np[7];
    const double *xp[7];
    int64_t in[7];
} layer_entries;

static void entries(const calib *c, int L, layer_entries *e) {
    rf_dec_model_matrix_names(c->m, L, e->names);
    for (int i = 0; i < 7; i++) {
        e->np[i] = e->names[i];
        e->xp[i] = c->total[input_of[i]];
        e->in[i] = c->dims[input_of[i]];
    }
    rf_xtx_partial_layer_path(c->dir, L, e->path, sizeof e->path);
}

/* Rank 0: XTX = sums / N, both triangles, into OUT.partial/layer-L.h5; the sums start over. */
static int write_layer(calib *c, int L) {
    for (int t = 0; t < RF_TAP_COUNT; t++) {
        int d = c->dims[t];
        double *x = c->total[t];
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++)
                x[(int64_t)j * d + i] = x[(int64_t)i * d + j] /= (double)(c->nseq * c->T);
    }
    layer_entries e;
    entries(c, L, &e);
    int rc = rf_xtx_write(e.path, 7, e.np, e.xp, e.in, c->nseq * c->T);
    for (int t = 0; t < RF_TAP_COUNT; t++) memset(c->total[t], 0, (size_t)size2(c, t) * sizeof(double));
    return rc;
}

/* Rank 0 adds the other ranks' chunks in chunk order, writes the layer; then every rank learns
 * whether that worked and whether a stop signal came to any rank (nonzero: stop). */
static int layer_done(void *ctx, int layer, double tokens_per_s) {
    calib *c = ctx;
    int rc = RF_OK;
    if (layer >= c->first) {
        if (c->rank == 0) {
            double *buf[RF_TAP_COUNT];
            for (int t = 0; t < RF_TAP_COUNT; t++) buf[t] = rf_malloc((size_t)size2(c, t) * sizeof(double));
            int r = 1;
            for (int64_t k = rank_chunk(c, 1); k < c->nchunks; k++) {
                while (k >= rank_chunk(c, r + 1)) r++;
                for (int t = 0; t < RF_TAP_COUNT; t++) rf_mpi_recv_doubles(buf[t], size2(c, t), r);
                fold(c, buf);
            }
            for (int t = 0; t < RF_TAP_COUNT; t++) free(buf[t]);
            rc = write_layer(c, layer);
        }
        rc = rf_mpi_agree(rc); /* rank 0's error line printed by it */
        c->chunk = rank_chunk(c, c->rank);
        c->seq = chunk_start(c, c->chunk);
    }
    if (c->rank == 0 && rc == RF_OK) {
        double elapsed = rf_now() - c->start;
        fprintf(stderr, "riverforge calibrate: layer %d/%d %s  %lld sequences  %.0f tokens/s per layer "
                "(rank 0)  ETA %.0f s\n", layer + 1, c->nlayers,
                layer >= c->first ? "done" : "recomputed (resumed)", (long long)c->nseq,
                tokens_per_s, elapsed / (layer + 1) * (c->nlayers - layer - 1));
    }
    if (rc != RF_OK) return c->failed = 1;
    unsigned char stop = rf_driver_stop_signal() != 0;
    rf_mpi_or_flags(&stop, 1);
    return stop;
}

/* Rank 0: OUT from the layer files, one layer in memory at a time (the same bytes as one
 * rf_xtx_write of every layer). Errors printed here: the other ranks learn of them from rank 0. */
static int assemble(calib *c, const char *out) {
    int64_t bytes = 0;
    for (int t = 0; t < RF_TAP_COUNT; t++) bytes += size2(c, t) * (int64_t)sizeof(double);
    rf_xtx_writer *w;
    if (rf_xtx_writer_create(&w, out, bytes * c->nlayers) != RF_OK) {
        fprintf(stderr, "riverforge: error: --out: %s\n", rf_last_error());
        return RF_ERR;
    }
    int rc = RF_OK;
    for (int L = 0; L < c->nlayers && rc == RF_OK; L++) {
        layer_entries e;
        entries(c, L, &e);
        rf_xtx_file *f = NULL;
        rc = rf_xtx_open(&f, e.path);
        for (int i = 0; i < 7 && rc == RF_OK; i++)
            if (i == 0 || e.xp[i] != e.xp[i - 1])
                rc = rf_xtx_read_f64(f, e.np[i], e.in[i], c->total[input_of[i]]);
        rf_xtx_close(f);
        if (rc == RF_OK) rf_xtx_writer_add(w, 7, e.np, e.xp, e.in, c->nseq * c->T);
    }
    rc = rf_xtx_writer_finish(w, rc);
    if (rc != RF_OK) fprintf(stderr, "riverforge: error: --out: %s\n", rf_last_error());
    return rc;
}

/* Every rank: the first log line, and RF_ERR (naming --nsamples) when the ranks of one node
 * cannot all hold their peak within rf_node_memory_bytes. */
static int check_memory(const rf_dec_model *m, int T, int64_t nseq, int rank, int nranks) {
    rf_calib_peak p = rf_calib_predict_peak(&m->cfg, T, nseq, nranks);
    double r0 = p.rank0, other = p.other, peak = r0 > other ? r0 : other;
    int on_node = rf_mpi_ranks_on_node();
    double avail = rf_node_memory_bytes();
    if (rank == 0)
        fprintf(stderr, "riverforge calibrate: predicted peak memory per rank %.3g GiB (rank 0 "
                "%.3g GiB); %d ranks on this node, %.1f GiB usable\n", other / (1 << 30),
                r0 / (1 << 30), on_node, avail / (1 << 30));
    if (peak * on_node > avail)
        return rf_fail("--nsamples %lld --seqlen %d: %d ranks of %.2f GiB each do not fit in the "
                       "node's %.1f GiB usable memory; use fewer ranks per node, more nodes or "
                       "fewer samples", (long long)nseq, T, on_node, peak / (1 << 30),
                       avail / (1 << 30));
    return RF_OK;
}

/* Rank 0: what the statistics come from (xtx_partial.h's inputs.json). */
static int inputs_json(const rf_dec_model *m, const char *model, const char *tokens, int T,
                       int64_t nseq, uint64_t seed, json_t **inputs) {
    char mf[17], cf[17], tf[17], cfg[4200], seed_s[32];
    snprintf(cfg, sizeof cfg, "%s/config.json", model);
    rf_model_fingerprint(&m->st, mf);
    if (rf_file_fingerprint(cfg, cf) != RF_OK || rf_file_fingerprint(tokens, tf) != RF_OK)
        return RF_ERR;
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    *inputs = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:i}", "model_fingerprint", mf,
                        "config_fingerprint", cf, "tokens_fingerprint", tf, "seqlen", T,
                        "nsamples", (json_int_t)nseq, "seed", seed_s, "layers", m->nlayers);
    return RF_OK;
}

/* Rank 0: OUT's folder must exist (nothing is created for a mistyped --out); then the lock on
 * OUT.partial and the first layer to compute. */
static int open_partial(const char *out, const char *dir, json_t *inputs, int nlayers,
                        int nranks, int *first) {
    char *copy = rf_strdup(out);
    struct stat st;
    int ok = stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
    free(copy);
    if (!ok) return rf_fail("--out: %s: its folder does not exist", out);
    if (rf_out_lock_take(dir, nranks) != RF_OK) return RF_ERR;
    return rf_xtx_partial_begin(dir, inputs, nlayers, first);
}

/* Every rank: layers [first, nlayers) into dir, then (rank 0) OUT. RF_EXIT_INTERRUPTED when a
 * stop signal came first; errors printed. */
static int calibrate(const rf_dec_model *m, const rf_tokens *tok, int T, int64_t nseq,
                     uint64_t seed, int rank, int nranks, const char *dir, int first,
                     const char *out) {
    const rf_dec_config *dc = &m->cfg;
    calib c = {.m = m, .dir = dir, .rank = rank, .nranks = nranks, .nlayers = m->nlayers,
               .first = first, .nseq = nseq, .T = T,
               .nchunks = nseq < RF_CALIB_MAX_CHUNKS ? nseq : RF_CALIB_MAX_CHUNKS, .start = rf_now(),
               .dims = {dc->hidden, dc->heads * dc->head_dim, dc->hidden, dc->intermediate}};
    c.chunk = rank_chunk(&c, rank);
    c.chunk_end = rank_chunk(&c, rank + 1);
    c.seq = chunk_start(&c, c.chunk);
    int maxd = 0;
    for (int t = 0; t < RF_TAP_COUNT; t++) {
        c.acc[t] = rf_calloc((size_t)size2(&c, t), sizeof(double));
        if (rank == 0) c.total[t] = rf_calloc((size_t)size2(&c, t), sizeof(double));
        maxd = c.dims[t] > maxd ? c.dims[t] : maxd;
    }
    c.xd = rf_malloc((size_t)T * maxd * sizeof(double));
    float *embed, *norm;
    int rc = rf_dec_model_globals(m, &embed, &norm, NULL);
    rf_forward f = {.m = m, .embed = embed, .T = T, .tap = tap, .tap_from = first, .ctx = &c,
                    .layer_done = layer_done, .count = chunk_start(&c, c.chunk_end) - c.seq};
    rf_forward_ids(&f, tok, seed, c.seq);
    float *x = rc == RF_OK && first < m->nlayers ? rf_forward_run(&f) : NULL;
    if (first < m->nlayers) rc = rf_mpi_agree(x ? RF_OK : RF_ERR);
    if (c.failed) rc = RF_ERR; /* a layer file could not be written (printed by rank 0) */
    if (rc == RF_OK && f.stopped) {
        if (rank == 0)
            fprintf(stderr, "riverforge calibrate: stopped by a signal; %s holds the finished "
                    "layers: rerun with the same flags to resume\n", dir);
        rc = RF_EXIT_INTERRUPTED;
    }
    if (rc == RF_OK) {
        if (rank == 0 && (rc = assemble(&c, out)) == RF_OK) rf_xtx_partial_remove(dir, c.nlayers);
        rc = rf_mpi_bcast_int(rc);
    }
    for (int t = 0; t < RF_TAP_COUNT; t++) free(c.acc[t]), free(c.total[t]);
    free(c.xd), free(x), free(f.ids), free(embed), free(norm);
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
        {"--out", RF_OPT_STRING, &out, "FILE.h5", "the XTX file to write (required); OUT.partial keeps finished layers until then"},
        {"--seqlen", RF_OPT_INT, &seqlen, "N", "tokens per sequence", "tokens.seqlen"},
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
    if (rc == RF_OK && (rc = rf_tokens_open(&tok, tokens, m.cfg.vocab, seqlen)) != RF_OK)
        rf_cli_flag_error(opts, nopts);
    int64_t nseq = seed ? nsamples : tok.n / seqlen;
    if (rc == RF_OK && !seed && nsamples > nseq)
        rc = rf_fail("--nsamples %d: %s holds %lld windows of %d tokens", nsamples, tokens,
                     (long long)nseq, seqlen);
    if (nsamples) nseq = nsamples;
    /* After each rf_mpi_agree every rank holds the same rc (the error printed once). */
    rc = rf_mpi_agree(rc);
    if (rc == RF_OK) rc = rf_mpi_agree(check_memory(&m, seqlen, nseq, rank, nranks));
    char dir[4200];
    int first = 0;
    if (rc == RF_OK) {
        rc = rf_xtx_partial_dir(out, dir, sizeof dir);
        json_t *inputs = NULL;
        if (rc == RF_OK && rank == 0) {
            rc = inputs_json(&m, model, tokens, seqlen, nseq, seed, &inputs);
            if (rc == RF_OK) rc = open_partial(out, dir, inputs, m.nlayers, nranks, &first);
            json_decref(inputs);
        }
        rc = rf_mpi_agree(rc);
    }
    if (rc == RF_OK) rc = rf_mpi_agree(rank == 0 ? RF_OK : rf_out_lock_join(dir));
    if (rc == RF_OK) {
        first = rf_mpi_bcast_int(first);
        if (rank == 0 && first > 0)
            fprintf(stderr, "riverforge calibrate: resuming at layer %d/%d (%s holds the ones "
                    "before)\n", first + 1, m.nlayers, dir);
        rf_driver_catch_signals();
        rc = calibrate(&m, &tok, seqlen, nseq, seed, rank, nranks, dir, first, out);
        if (rc == RF_OK && rank == 0)
            printf("riverforge calibrate: wrote %s (%d layers, %lld sequences of %d tokens)\n", out,
                   m.nlayers, (long long)nseq, seqlen);
    }
    rf_tokens_close(&tok);
    rf_dec_model_close(&m);
    if (rc == RF_EXIT_INTERRUPTED) return RF_EXIT_INTERRUPTED;
    return rc == RF_OK ? RF_EXIT_OK : RF_EXIT_USAGE;
}
