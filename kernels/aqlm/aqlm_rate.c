/* aqlm_rate.c -- the rates `plan` prices rf_aqlm_work at (aqlm.h), measured on random data:
 * rf_aqlm_scoring_rates, the scoring loop timed as its two callers run it, the k-means
 * assignment (aqlm_kmeans_assign itself, top 1) and the beam search (blocks of AQLM_BEAM_BLOCK
 * hypotheses per aqlm_topk_scores call, top beam_size, threads over blocks); and
 * rf_aqlm_step_rate, one Adam step (aqlm_loss_grad and the two updates) on a probe matrix. A
 * scoring call is sized to about 2 GFLOP (at least a few work items per thread, at most 16 MiB
 * of vectors). After one call that warms caches, pages and threads, calls repeat until `seconds`
 * have passed. */
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

static void run_kmeans(const void *arg) {
    const scoring_job *j = arg;
    rf_check(aqlm_kmeans_assign(j->x, j->n, j->d, j->C, j->K, j->assign, NULL) == RF_OK,
             "k-means assignment without progress cannot stop");
}

static void run_beam(const void *arg) {
    const scoring_job *j = arg;
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

/* FLOP/s of run(arg), `flop` a call: one warm-up call, then calls until `seconds` have passed. */
static double rate(void (*run)(const void *), const void *arg, double flop, double seconds) {
    run(arg);
    int calls = 0;
    double t0 = rf_now(), t;
    do {
        run(arg);
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
    *kmeans = rate(run_kmeans, &j, 2.0 * nk * K * d, seconds);
    j.n = nb;
    *beam = rate(run_beam, &j, 2.0 * nb * K * d, seconds);
    free(j.assign), free(N), free(C), free(a), free(x);
}

typedef struct {
    const float *W, *XTX;
    rf_aqlm_matrix q;
    aqlm_code_index ix;
    float *work, *g, *v, *vmax; /* g, v, vmax: the codebooks' [ncb], then the scales' [Og] */
    int64_t ncb, Og;
    double lr;
} step_job;

static void run_step(const void *arg) {
    const step_job *j = arg;
    aqlm_loss_grad(j->W, j->XTX, &j->q, &j->ix, j->work, j->g, j->g + j->ncb);
    aqlm_adam_update(j->q.codebooks, j->g, j->v, j->vmax, j->ncb, j->lr, AQLM_ADAM_BETA2,
                     AQLM_ADAM_EPS, 1);
    aqlm_adam_update(j->q.scales, j->g + j->ncb, j->v + j->ncb, j->vmax + j->ncb, j->Og, j->lr,
                     AQLM_ADAM_BETA2, AQLM_ADAM_EPS, 1);
}

double rf_aqlm_step_rate(const rf_aqlm_config *cfg, int64_t out_features, int64_t in_features,
                         double seconds) {
    const int og = cfg->out_group_size, ig = cfg->in_group_size;
    const int64_t out = og * (out_features / og > 0 ? out_features / og : 1);
    const int64_t in = ig * (in_features / ig > 0 ? in_features / ig : 1);
    step_job j = {.lr = cfg->lr};
    rf_aqlm_alloc(&j.q, out, in, cfg);
    const int64_t ncodes = (out / og) * (in / ig) * j.q.M;
    j.ncb = (int64_t)j.q.M * j.q.K * og * ig, j.Og = out / og;
    float *W = rf_malloc((size_t)(out * in) * sizeof *W);
    float *XTX = rf_malloc((size_t)(in * in) * sizeof *XTX);
    j.work = rf_malloc((size_t)(2 * out * in) * sizeof *j.work);
    j.g = rf_malloc((size_t)(j.ncb + j.Og) * sizeof *j.g);
    j.v = rf_calloc((size_t)(j.ncb + j.Og), sizeof *j.v);
    j.vmax = rf_calloc((size_t)(j.ncb + j.Og), sizeof *j.vmax);
    rf_rng rng;
    rf_rng_init(&rng, 2);
    for (int64_t i = 0; i < out * in; i++) W[i] = 0.02f * (float)rf_rng_normal(&rng);
    for (int64_t i = 0; i < in * in; i++) XTX[i] = (float)rf_rng_normal(&rng);
    for (int64_t i = 0; i < ncodes; i++)
        j.q.codes[i] = (uint16_t)rf_rng_below(&rng, (uint64_t)j.q.K);
    for (int64_t i = 0; i < j.ncb; i++) j.q.codebooks[i] = 0.02f * (float)rf_rng_normal(&rng);
    for (int64_t o = 0; o < j.Og; o++) j.q.scales[o] = 1.0f;
    j.W = W, j.XTX = XTX;
    aqlm_code_index_build(&j.q, &j.ix);
    const double r = rate(run_step, &j, 2.0 * out * in * in, seconds);
    aqlm_code_index_free(&j.ix);
    free(j.vmax), free(j.v), free(j.g), free(j.work), free(XTX), free(W);
    rf_aqlm_free(&j.q);
    return r;
}
