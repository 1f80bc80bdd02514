/* aqlm_rate.c -- rf_aqlm_scoring_rates (aqlm.h): the scoring loop timed as its two callers run it,
 * the k-means assignment (aqlm_kmeans_assign itself, top 1) and the beam search (blocks of
 * AQLM_BEAM_BLOCK hypotheses per aqlm_topk_scores call, top beam_size, threads over blocks), on
 * random codewords and vectors. One call is sized to about 2 GFLOP (at least a few work items per
 * thread, at most 16 MiB of vectors); after one call that warms caches, pages and threads, calls
 * repeat until `seconds` have passed. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_log.h" /* rf_now */
#include "common/rf_rng.h"
#include "kernels/aqlm/aqlm_internal.h"

#define CALL_FLOP 2e9
#define MAX_VECTOR_FLOATS (4 << 20)

typedef struct {
    const float *x, *a, *C, *N;
    int64_t n; /* vectors */
    int d, K, top, block;
    int32_t *assign;
} scoring_job;

static void run_kmeans(const scoring_job *j) {
    rf_check(aqlm_kmeans_assign(j->x, j->n, j->d, j->C, j->K, j->assign, NULL) == RF_OK,
             "k-means assignment without progress cannot stop");
}

static void run_beam(const scoring_job *j) {
    const int64_t nblocks = j->n / j->block;
#pragma omp parallel
    {
        int32_t *idx = rf_malloc((size_t)j->block * j->top * sizeof *idx);
        float *val = rf_malloc((size_t)j->block * j->top * sizeof *val);
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < nblocks; b++)
            aqlm_topk_scores(j->x + b * j->block * j->d, j->a + b * j->block, j->block, j->d, j->C,
                             j->N, j->K, j->top, idx, val);
        free(val);
        free(idx);
    }
}

/* FLOP/s of run(job): one warm-up call, then calls until `seconds` have passed. */
static double rate(void (*run)(const scoring_job *), const scoring_job *j, double seconds) {
    const double flop = 2.0 * j->n * j->K * j->d;
    run(j);
    int calls = 0;
    double t0 = rf_now(), t;
    do {
        run(j);
        calls++;
        t = rf_now() - t0;
    } while (t < seconds);
    return calls * flop / t;
}

/* Vectors of one call: about CALL_FLOP, a multiple of `unit`, at least min_units of them. */
static int64_t call_vectors(int K, int d, int64_t unit, int64_t min_units) {
    int64_t units = (int64_t)ceil(CALL_FLOP / (2.0 * K * d) / unit);
    const int64_t cap = MAX_VECTOR_FLOATS / ((int64_t)d * unit);
    if (units > cap) units = cap;
    if (units < min_units) units = min_units;
    return units * unit;
}

void rf_aqlm_scoring_rates(const rf_aqlm_config *cfg, double seconds, double *kmeans,
                           double *beam) {
    const int d = cfg->out_group_size * cfg->in_group_size, K = 1 << cfg->nbits_per_codebook;
    const int top = cfg->beam_size, threads = omp_get_max_threads();
    const int groups = AQLM_BEAM_BLOCK / top > 0 ? AQLM_BEAM_BLOCK / top : 1;
    scoring_job j = {.d = d, .K = K, .top = top, .block = groups * top};
    /* whole work items of aqlm_kmeans_assign, whole blocks of the beam search */
    const int64_t nk = call_vectors(K, d, AQLM_KMEANS_CHUNK, 2 * threads);
    const int64_t nb = call_vectors(K, d, j.block, 4 * threads);
    const int64_t n = nk > nb ? nk : nb;
    float *x = rf_malloc((size_t)n * d * sizeof *x), *a = rf_malloc((size_t)n * sizeof *a);
    float *C = rf_malloc((size_t)K * d * sizeof *C), *N = rf_malloc((size_t)K * sizeof *N);
    j.assign = rf_malloc((size_t)n * sizeof *j.assign);
    rf_rng rng;
    rf_rng_init(&rng, 1);
    for (int64_t i = 0; i < n * d; i++) x[i] = (float)rf_rng_normal(&rng);
    for (int64_t i = 0; i < (int64_t)K * d; i++) C[i] = (float)rf_rng_normal(&rng);
    for (int64_t i = 0; i < n; i++) a[i] = 1.0f;
    aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
    j.x = x, j.a = a, j.C = C, j.N = N;
    j.n = nk;
    *kmeans = rate(run_kmeans, &j, seconds);
    j.n = nb;
    *beam = rate(run_beam, &j, seconds);
    free(j.assign), free(N), free(C), free(a), free(x);
}
