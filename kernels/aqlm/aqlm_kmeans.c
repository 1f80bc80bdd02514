/* aqlm_kmeans.c -- the reference's initialization: residual Lloyd k-means on the groups of
 * W/scale.
 *
 * Points are the Og*Ig groups of Wn [out, in], each og x ig block flattened to d = og*ig floats
 * (the codeword layout). For m = 0..M-1: fit K centroids (optionally on a random subset of
 * init_max_points_per_centroid*K points), assign every point, subtract its centroid, go on with
 * the residual. Assignment is the aqlm_topk_scores product with N = |C|^2; the centroid update is
 * a float64 sum in point order, parallel over coordinates (deterministic for any thread count).
 * Progress: an assignment reports after each batch of points (about REPORT_FLOP of scoring), so a
 * fit reports within and at the end of every iteration.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

/* Points per parallel work item; and the scoring work between two progress reports of an
 * assignment (a tenth of a second on a few cores), at least a few work items per thread. */
enum { CHUNK = AQLM_KMEANS_CHUNK, CHUNKS_PER_THREAD = 8 };
#define REPORT_FLOP 1e10

int aqlm_kmeans_assign(const float *x, int64_t n, int d, const float *C, int K, int32_t *assign,
                       const aqlm_progress *progress) {
    float *N = rf_malloc((size_t)K * sizeof *N);
    aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
    float *val = rf_malloc((size_t)n * sizeof *val);
    /* Batches of whole work items: every point is scored by the same call as without them. */
    const int64_t nchunks = (n + CHUNK - 1) / CHUNK;
    const int64_t batch = (int64_t)fmax(CHUNKS_PER_THREAD * omp_get_max_threads(),
                                        ceil(REPORT_FLOP / (2.0 * CHUNK * K * d)));
    int rc = RF_OK;
    for (int64_t b0 = 0; b0 < nchunks && rc == RF_OK; b0 += batch) {
        const int64_t b1 = b0 + batch < nchunks ? b0 + batch : nchunks;
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t c = b0; c < b1; c++) {
            int64_t i0 = c * CHUNK, nc = n - i0 < CHUNK ? n - i0 : CHUNK;
            aqlm_topk_scores(x + i0 * d, NULL, nc, d, C, N, K, 1, assign + i0, val + i0);
        }
        const int64_t i1 = b1 * CHUNK < n ? b1 * CHUNK : n;
        for (int64_t i = b0 * CHUNK; i < i1; i++)
            rf_check(assign[i] >= 0, "k-means: no finite distance for point %lld", (long long)i);
        if (aqlm_progress_report(progress, (double)b1 / nchunks)) rc = RF_CANCELLED;
    }
    free(val);
    free(N);
    return rc;
}

/* torch.allclose(a, b, rtol, atol): |a - b| <= atol + rtol * |b| everywhere. */
static int allclose(const float *a, const float *b, int64_t n, double rtol, double atol) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= atol + rtol * fabs((double)b[i]))) return 0;
    return 1;
}

int aqlm_kmeans_fit(const float *x, int64_t n, int d, int K, int max_iter, rf_rng *rng, float *C,
                    const aqlm_progress *progress, int *iterations) {
    rf_check(K >= 1 && K <= n, "k-means: %d centroids from %lld points", K, (long long)n);
    int64_t *init = rf_malloc((size_t)K * sizeof *init);
    rf_rng_sample(rng, n, K, init);
    for (int k = 0; k < K; k++) memcpy(C + (int64_t)k * d, x + init[k] * d, (size_t)d * sizeof *C);
    free(init);

    int32_t *assign = rf_malloc((size_t)n * sizeof *assign);
    double *sum = rf_malloc((size_t)K * d * sizeof *sum);
    int64_t *count = rf_malloc((size_t)K * sizeof *count);
    float *next = rf_malloc((size_t)K * d * sizeof *next);
    int it = 0, rc = RF_OK;
    while (it < max_iter) {
        /* the assignment is nearly all of an iteration's work: its reports are the iteration's */
        const aqlm_progress piece =
            aqlm_progress_piece(progress, (double)it / max_iter, (double)(it + 1) / max_iter);
        if ((rc = aqlm_kmeans_assign(x, n, d, C, K, assign, &piece)) != RF_OK) break;
        memset(sum, 0, (size_t)K * d * sizeof *sum);
        memset(count, 0, (size_t)K * sizeof *count);
        for (int64_t i = 0; i < n; i++) count[assign[i]]++;
#pragma omp parallel for schedule(static) /* one coordinate per task: sums in point order */
        for (int e = 0; e < d; e++) {
            double *se = sum + (int64_t)e * K; /* [d, K]: no cache line shared across tasks */
            for (int64_t i = 0; i < n; i++) se[assign[i]] += x[i * d + e];
        }
        for (int k = 0; k < K; k++)
            for (int e = 0; e < d; e++)
                next[(int64_t)k * d + e] =
                    count[k] ? (float)(sum[(int64_t)e * K + k] / count[k]) : C[(int64_t)k * d + e];
        /* The reference tests convergence on iterations 0, 10, 20, ... and then keeps the old
         * centroids; otherwise it takes the new ones. */
        int converged = it % 10 == 0 && allclose(next, C, (int64_t)K * d, 1e-6, 1e-8);
        it++;
        if (converged) break;
        memcpy(C, next, (size_t)K * d * sizeof *C);
    }
    free(next);
    free(count);
    free(sum);
    free(assign);
    *iterations = it;
    return rc;
}

int aqlm_init_codes(const float *Wn, const rf_aqlm_config *cfg, rf_rng *rng, rf_aqlm_matrix *q,
                    const aqlm_progress *progress) {
    int og = q->og, ig = q->ig, d = og * ig, M = q->M, K = q->K;
    int64_t Og = q->out_features / og, Ig = q->in_features / ig, in = q->in_features;
    int64_t n = Og * Ig;
    float *res = rf_malloc((size_t)n * d * sizeof *res); /* residual points [n, d] */
#pragma omp parallel for
    for (int64_t o = 0; o < Og; o++)
        for (int64_t i = 0; i < Ig; i++)
            for (int a = 0; a < og; a++)
                memcpy(res + (o * Ig + i) * d + a * ig, Wn + (o * og + a) * in + i * ig,
                       (size_t)ig * sizeof *res);

    int64_t nfit = n;
    if (cfg->init_max_points_per_centroid > 0 && (int64_t)cfg->init_max_points_per_centroid * K < n)
        nfit = (int64_t)cfg->init_max_points_per_centroid * K;
    int64_t *pick = nfit < n ? rf_malloc((size_t)nfit * sizeof *pick) : NULL;
    float *sub = nfit < n ? rf_malloc((size_t)nfit * d * sizeof *sub) : NULL;
    int32_t *assign = rf_malloc((size_t)n * sizeof *assign);
    /* Codebook m reports into [m, m + 1] / M: the fit first, then the assignment of all points. */
    const aqlm_cost cost = aqlm_cost_model(q->out_features, in, cfg);
    const double fit_share = cfg->init_max_iter * cost.kmeans_iter / (cost.init / M);
    int rc = RF_OK;
    for (int m = 0; m < M; m++) {
        float *C = q->codebooks + (int64_t)m * K * d;
        const aqlm_progress codebook = aqlm_progress_piece(progress, (double)m / M,
                                                           (double)(m + 1) / M);
        const aqlm_progress fit = aqlm_progress_piece(&codebook, 0, fit_share);
        const aqlm_progress all = aqlm_progress_piece(&codebook, fit_share, 1);
        if (sub) {
            rf_rng_sample(rng, n, nfit, pick);
            for (int64_t j = 0; j < nfit; j++)
                memcpy(sub + j * d, res + pick[j] * d, (size_t)d * sizeof *sub);
        }
        int iterations;
        rc = aqlm_kmeans_fit(sub ? sub : res, nfit, d, K, cfg->init_max_iter, rng, C, &fit,
                             &iterations);
        if (rc == RF_OK) rc = aqlm_kmeans_assign(res, n, d, C, K, assign, &all);
        if (rc != RF_OK) break;
#pragma omp parallel for
        for (int64_t p = 0; p < n; p++) {
            q->codes[p * M + m] = (uint16_t)assign[p];
            for (int e = 0; e < d; e++) res[p * d + e] -= C[(int64_t)assign[p] * d + e];
        }
    }
    free(assign);
    free(sub);
    free(pick);
    free(res);
    return rc;
}
