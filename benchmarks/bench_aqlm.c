/* bench_aqlm.c -- times AQLM on one matrix, part by part, against the machine's sgemm.
 *
 *   bench_aqlm [--epochs E] [--steps S] [--M M] [--nbits B] [--ig G] [--og O] [--beam K]
 *              [--init_iter I] [--init_points P] [--seed N] [--whole 0|1]
 *              [W.f32 OUT IN XTX.f32|XTX.f64]
 *
 * Without files: a synthetic Qwen3-4B k_proj, W [1024, 2560] ~ N(0, 0.02^2) with uneven row
 * scales, and XTX = X^T X / n of n = 2560 calibration rows whose features share 16 factors
 * (correlated) and include 8 loud outlier channels. The configuration is rf_aqlm_config_quick
 * (2x8 ig8, 20 k-means iterations) with 2 epochs x 20 steps and no early stop: enough to time each
 * part; the full-run time is extrapolated from the parts and printed as such.
 *
 * The SIMD path is the CPU's best or RF_SIMD's (common/rf_simd.h); the first line names it.
 * Reports: k-means init, one Adam step (loss + gradient + update), a beam pass right after init
 * (most codes move) and one on the trained result (few move), the whole rf_aqlm_quantize (--whole
 * 0 skips it and the pass on trained codes: the extrapolations then use the pass after init);
 * each part's wall time and CPU time per thread (bench_util.h: on a shared machine the second
 * is what the part takes with its cores to itself); GFLOP/s (by the CPU time) of the Adam step
 * (out*in*in*2) and of the beam pass (the reference's work:
 * out*in*K*M*2*beam scoring + out*in*in*2 XTX products), next to a large sgemm's GFLOP/s on the
 * same threads (the floor: the time this FLOP count needs at sgemm speed).
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h"
#include "common/rf_rng.h"
#include "common/rf_simd.h"
#include "kernels/aqlm/aqlm.h"
#include "kernels/aqlm/aqlm_internal.h"

#include "bench_util.h"

static void *read_file(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) rf_fatal("cannot open %s", path);
    void *buf = rf_malloc(n);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) rf_fatal("%s: expected %zu bytes, read %zu", path, n, got);
    return buf;
}

static void synthetic(int64_t out, int64_t in, uint64_t seed, float **W, float **XTX) {
    enum { FACTORS = 16, OUTLIERS = 8 };
    rf_rng r;
    rf_rng_init(&r, seed);
    *W = rf_malloc((size_t)(out * in) * sizeof **W);
    for (int64_t o = 0; o < out; o++) {
        double row_scale = 0.02 * exp(0.3 * rf_rng_normal(&r));
        for (int64_t j = 0; j < in; j++) (*W)[o * in + j] = (float)(row_scale * rf_rng_normal(&r));
    }
    const int64_t n = in;
    float *L = rf_malloc((size_t)(in * FACTORS) * sizeof *L),
          *X = rf_malloc((size_t)(n * in) * sizeof *X);
    for (int64_t j = 0; j < in * FACTORS; j++) L[j] = (float)(0.5 * rf_rng_normal(&r));
    for (int64_t t = 0; t < n; t++) {
        float u[FACTORS];
        for (int f = 0; f < FACTORS; f++) u[f] = (float)rf_rng_normal(&r);
        for (int64_t j = 0; j < in; j++) {
            float x = (float)rf_rng_normal(&r);
            for (int f = 0; f < FACTORS; f++) x += L[j * FACTORS + f] * u[f];
            X[t * in + j] = x;
        }
    }
    for (int k = 0; k < OUTLIERS; k++) { /* loud channels, as in LLM activations */
        int64_t j = (int64_t)rf_rng_below(&r, (uint64_t)in);
        for (int64_t t = 0; t < n; t++) X[t * in + j] *= 20.0f;
    }
    *XTX = rf_malloc((size_t)(in * in) * sizeof **XTX);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)in, (int)in, (int)n, 1.0f / n, X,
                (int)in, X, (int)in, 0.0f, *XTX, (int)in);
    free(X);
    free(L);
}

int main(int argc, char **argv) {
    rf_aqlm_config cfg = rf_aqlm_config_quick();
    cfg.max_epochs = 2;
    cfg.steps_per_epoch = 20;
    cfg.relative_mse_tolerance = 0;
    int seed = 0, whole = 1;
    const struct {
        const char *name;
        int *value;
    } flags[] = {
        {"epochs", &cfg.max_epochs},
        {"steps", &cfg.steps_per_epoch},
        {"M", &cfg.num_codebooks},
        {"nbits", &cfg.nbits_per_codebook},
        {"ig", &cfg.in_group_size},
        {"og", &cfg.out_group_size},
        {"beam", &cfg.beam_size},
        {"init_iter", &cfg.init_max_iter},
        {"init_points", &cfg.init_max_points_per_centroid},
        {"seed", &seed},
        {"whole", &whole},
    };
    int64_t out = 1024, in = 2560;
    float *W = NULL, *XTX = NULL;
    int a = 1;
    for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
        size_t f = 0;
        while (f < sizeof flags / sizeof *flags && strcmp(argv[a] + 2, flags[f].name)) f++;
        if (f == sizeof flags / sizeof *flags) rf_fatal("unknown flag %s", argv[a]);
        *flags[f].value = atoi(argv[a + 1]);
    }
    const char *label = "synthetic Qwen3-4B k_proj";
    if (argc - a == 4) {
        out = atoll(argv[a + 1]);
        in = atoll(argv[a + 2]);
        W = read_file(argv[a], (size_t)(out * in) * sizeof *W);
        const char *xp = argv[a + 3];
        size_t n = (size_t)(in * in);
        XTX = rf_malloc(n * sizeof *XTX);
        if (strstr(xp, ".f64")) {
            double *x = read_file(xp, n * sizeof *x);
            for (size_t j = 0; j < n; j++) XTX[j] = (float)x[j];
            free(x);
        } else {
            free(XTX);
            XTX = read_file(xp, n * sizeof *XTX);
        }
        label = argv[a];
    } else if (argc != a) {
        fprintf(stderr, "usage: %s [--flag N ...] [W.f32 OUT IN XTX.f32|XTX.f64]\n", argv[0]);
        return 2;
    } else {
        synthetic(out, in, 1, &W, &XTX);
    }
    if (rf_aqlm_check_config(&cfg, out, in) != RF_OK) {
        fprintf(stderr, "bench_aqlm: %s\n", rf_last_error());
        return 2;
    }
    const int M = cfg.num_codebooks, K = 1 << cfg.nbits_per_codebook;
    const int64_t Og = out / cfg.out_group_size, Ig = in / cfg.in_group_size;
    printf("bench_aqlm: %s [%lld, %lld], %dx%d ig%d og%d beam%d, %d threads, SIMD path %s\n",
           label, (long long)out, (long long)in, M, cfg.nbits_per_codebook, cfg.in_group_size,
           cfg.out_group_size, cfg.beam_size, omp_get_max_threads(), rf_simd_name(rf_simd_path()));
    double peak = sgemm_rate_cpu(2048, 3) / 1e9;
    const double xtx_flop = 2.0 * out * in * in;
    const double score_flop = 2.0 * out * in * K * M * cfg.beam_size;

    /* The parts, on a state built by the real init. */
    rf_aqlm_matrix q;
    rf_aqlm_alloc(&q, out, in, &cfg);
    float *Wn = rf_malloc((size_t)(out * in) * sizeof *Wn);
    if (aqlm_init_scales(W, out, in, q.og, q.scales, Wn) != RF_OK) {
        fprintf(stderr, "bench_aqlm: %s: %s\n", label, rf_last_error());
        return 2;
    }
    rf_rng rng;
    rf_rng_init(&rng, (uint64_t)seed);
    bench_time t = bench_start();
    aqlm_init_codes(Wn, &cfg, &rng, &q, NULL);
    const bench_time t_init = bench_since(t, 1);
    free(Wn);

    const int64_t ncb = (int64_t)M * K * q.og * q.ig;
    float *gc = rf_malloc((size_t)ncb * sizeof *gc), *gs = rf_malloc((size_t)Og * sizeof *gs);
    float *vc = rf_calloc((size_t)ncb, sizeof *vc), *mc = rf_calloc((size_t)ncb, sizeof *mc);
    float *vs = rf_calloc((size_t)Og, sizeof *vs), *ms = rf_calloc((size_t)Og, sizeof *ms);
    float *work = rf_malloc((size_t)(2 * out * in) * sizeof *work);
    aqlm_code_index ix = {0};
    aqlm_code_index_build(&q, &ix);
    enum { STEPS = 10 };
    t = bench_start();
    for (int s = 1; s <= STEPS; s++) {
        aqlm_loss_grad(W, XTX, &q, &ix, work, gc, gs);
        aqlm_adam_update(q.codebooks, gc, vc, mc, ncb, cfg.lr, 0.95, 1e-8, s);
        aqlm_adam_update(q.scales, gs, vs, ms, Og, cfg.lr, 0.95, 1e-8, s);
    }
    const bench_time t_step = bench_since(t, STEPS);

    int64_t *g_order = rf_malloc((size_t)Ig * sizeof *g_order);
    int *m_order = rf_malloc((size_t)(Ig * M) * sizeof *m_order);
    for (int64_t g = 0; g < Ig; g++) g_order[g] = g;
    rf_rng_shuffle(&rng, g_order, Ig);
    for (int64_t j = 0; j < Ig * M; j++) m_order[j] = (int)(j % M);
    t = bench_start();
    aqlm_beam_pass(W, XTX, &q, cfg.beam_size, g_order, m_order, NULL, NULL);
    const bench_time t_beam = bench_since(t, 1);
    aqlm_code_index_free(&ix);
    free(work), free(ms), free(vs), free(mc), free(vc), free(gs), free(gc);
    rf_aqlm_free(&q);

    rf_aqlm_stats st = {0};
    bench_time t_beam_trained = t_beam; /* --whole 0: the pass after init stands for it */
    if (whole) {
        rf_check(rf_aqlm_quantize(W, XTX, out, in, &cfg, (uint64_t)seed, &q, &st, NULL, NULL) ==
                     RF_OK,
                 "%s", rf_last_error());
        t = bench_start();
        aqlm_beam_pass(W, XTX, &q, cfg.beam_size, g_order, m_order, NULL, NULL);
        t_beam_trained = bench_since(t, 1);
        rf_aqlm_free(&q);
    }
    free(m_order), free(g_order);

    /* again: a busy moment must not lower the floor */
    peak = fmax(peak, sgemm_rate_cpu(2048, 3) / 1e9);
    printf("sgemm 2048^3                 %8.1f GFLOP/s by CPU time (the floor's speed)\n", peak);
    printf("part                             wall s  CPU s/thread   GFLOP/s (by CPU time)\n");
    printf("k-means init                 %10.3f %10.3f\n", t_init.wall, t_init.cpu);
    printf("Adam step                    %10.4f %10.4f    %6.1f  floor %.4f s\n", t_step.wall,
           t_step.cpu, xtx_flop / t_step.cpu / 1e9, xtx_flop / peak / 1e9);
    printf("beam pass after init         %10.3f %10.3f    %6.1f  floor %.3f s "
           "(%.1f GFLOP scoring + %.1f GFLOP XTX)\n",
           t_beam.wall, t_beam.cpu, (score_flop + xtx_flop) / t_beam.cpu / 1e9,
           (score_flop + xtx_flop) / peak / 1e9, score_flop / 1e9, xtx_flop / 1e9);
    if (whole)
        printf("beam pass on trained codes   %10.3f %10.3f    %6.1f\n", t_beam_trained.wall,
               t_beam_trained.cpu, (score_flop + xtx_flop) / t_beam_trained.cpu / 1e9);
    if (whole)
        printf("rf_aqlm_quantize             %10.3f            (wall; %d epochs x %d steps, "
           "rel_act_err %.5f, rel_w_err %.4f)\n",
           st.seconds, st.epochs, st.adam_steps / (st.epochs ? st.epochs : 1), st.rel_act_err,
           st.rel_w_err);
    /* Whole runs from the parts: AQLM's default schedule (no early stop) and RiverONE's. */
    const int sched[2][2] = {{100, 100}, {5, 50}};
    for (int j = 0; j < 2; j++) {
        const int E = sched[j][0], S = sched[j][1];
        printf("extrapolated %3d x %3d       %10.1f %10.1f  (init + %d x (%d steps + 1 beam pass))\n",
               E, S, t_init.wall + E * (S * t_step.wall + t_beam_trained.wall),
               t_init.cpu + E * (S * t_step.cpu + t_beam_trained.cpu), E, S);
    }
    free(XTX), free(W);
    return 0;
}
