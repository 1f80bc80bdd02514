/* qgp_readout.c -- the fused per-entry read-out of QGP (qgp_readout.h): the work area, the pass
 * over the chunks dispatched to the SIMD path's chunk kernel (qgp_readout_simd.c), the sums in
 * chunk order, and the plain-loop _ref twin.
 */
#include "kernels/vitgen/qgp_readout.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"
#include "kernels/vitgen/qgp_readout_internal.h"

enum { BLK = RF_READOUT_BLK, LOB = RF_READOUT_LOB, VLM = RF_READOUT_VL_MAX };

static void *alloc64(size_t bytes) {
    void *p = NULL;
    rf_check(posix_memalign(&p, 64, bytes ? bytes : 64) == 0, "readout: out of memory (%zu bytes)",
             bytes);
    return p;
}

/* Per-thread scratch in floats: xp, xs, y [BLK]; a1, a2, tacc [H][BLK]; then one vector (of at
 * most VLM lanes) per accumulator: g2 [H][H]; g3, gb2, gp, gs [H]; ghi [H][nhi]; gb3 [1]. Rounded
 * up to 64 bytes, so that every thread's part stays aligned. */
static size_t per_thread_floats(int H, int nhi) {
    const size_t f = 3 * BLK + 3 * (size_t)H * BLK +
                     VLM * ((size_t)H * H + 4 * (size_t)H + (size_t)H * nhi + 1);
    return (f + 15) / 16 * 16;
}

static int64_t readout_chunks(int64_t N) { return (N + RF_READOUT_CHUNK - 1) / RF_READOUT_CHUNK; }

double rf_readout_work_bytes(int H, int nbits, int64_t N, int64_t nparams, int threads) {
    const int nhi = nbits > LOB ? nbits - LOB : 0;
    const double nc = (double)readout_chunks(N);
    return sizeof(float) * ((double)H * BLK + (double)threads * per_thread_floats(H, nhi)) +
           nc * (4.0 * nparams + 8) + 8.0 * nparams;
}

rf_readout_work *rf_readout_work_new(const rf_readout *r) {
    const rf_mlp *m = r->m;
    rf_check(m->nlayers == 3 && m->sizes[1] == m->sizes[2] && m->sizes[3] == 1 &&
                 m->sizes[0] == r->nbits + 1 + (r->p != NULL) && r->N >= 1 &&
                 r->N <= ((int64_t)1 << r->nbits),
             "readout: an MLP %d -> %d -> %d -> %d for %d bits, %lld rows", m->sizes[0], m->sizes[1],
             m->sizes[2], m->sizes[3], r->nbits, (long long)r->N);
    rf_readout_work *w = rf_calloc(1, sizeof *w);
    w->H = m->sizes[1];
    w->nbits = r->nbits;
    w->nhi = r->nbits > LOB ? r->nbits - LOB : 0;
    w->threads = omp_get_max_threads();
    w->nchunks = readout_chunks(r->N);
    w->np = m->nparams;
    w->per_thread = per_thread_floats(w->H, w->nhi);
    w->T = alloc64((size_t)w->H * BLK * sizeof(float));
    w->scratch = alloc64((size_t)w->threads * w->per_thread * sizeof(float));
    w->gpart = rf_malloc((size_t)w->nchunks * (size_t)w->np * sizeof *w->gpart);
    w->lpart = rf_malloc((size_t)w->nchunks * sizeof *w->lpart);
    w->gsum = rf_malloc((size_t)w->np * sizeof *w->gsum);
    return w;
}

void rf_readout_work_free(rf_readout_work *w) {
    if (!w) return;
    free(w->T), free(w->scratch), free(w->gpart), free(w->lpart), free(w->gsum);
    free(w);
}

double rf_readout_eval(const rf_readout *r, rf_readout_work *w, const float *params, float *G,
                       float *grad) {
    const int H = w->H, n = w->nbits, hasp = r->p != NULL, F = n + 1 + hasp;
    const int nlo = n < LOB ? n : LOB;
    /* the low bits' table */
    for (int h = 0; h < H; h++) {
        const float *w1 = params + (int64_t)h * F + hasp;
        float *t = w->T + (size_t)h * BLK;
        for (int i = 0; i < BLK; i++) {
            float a = 0;
            for (int q = 0; q < nlo; q++) a += (i >> q) & 1 ? w1[q] : -w1[q];
            t[i] = a;
        }
    }
    const int64_t nc = w->nchunks, np = w->np;
    static rf_readout_chunk_fn *const path[RF_SIMD_NPATHS] = RF_SIMD_TABLE(rf_readout_chunk);
    rf_readout_chunk_fn *const chunk_run = path[rf_simd_path()];
#pragma omp parallel for schedule(dynamic) num_threads(w->threads)
    for (int64_t c = 0; c < nc; c++) {
        const int64_t c0 = c * RF_READOUT_CHUNK;
        const int64_t c1 = r->N - c0 < RF_READOUT_CHUNK ? r->N : c0 + RF_READOUT_CHUNK;
        float *sc = w->scratch + (size_t)omp_get_thread_num() * w->per_thread;
        w->lpart[c] = chunk_run(r, w, params, c0, c1, sc, G, grad ? w->gpart + c * np : NULL);
    }
    double loss = 0;
    for (int64_t c = 0; c < nc; c++) loss += w->lpart[c];
    if (grad) {
        for (int64_t k = 0; k < np; k++) w->gsum[k] = 0;
        for (int64_t c = 0; c < nc; c++) {
            const float *g = w->gpart + c * np;
            for (int64_t k = 0; k < np; k++) w->gsum[k] += g[k];
        }
        for (int64_t k = 0; k < np; k++) grad[k] = (float)w->gsum[k];
    }
    return loss * r->gscale;
}

double rf_readout_eval_ref(const rf_readout *r, const float *params, float *G, float *grad) {
    const rf_mlp *m = r->m;
    const int n = r->nbits, hasp = r->p != NULL, F = m->sizes[0];
    const int64_t N = r->N;
    float *x = rf_malloc((size_t)N * F * sizeof *x), *y = rf_malloc((size_t)N * sizeof *y);
    float *work = rf_malloc(rf_mlp_work_floats(m, N) * sizeof *work);
    for (int64_t j = 0; j < N; j++) {
        float *f = x + j * F;
        if (hasp) *f++ = r->p[j] * r->pscale;
        for (int q = 0; q < n; q++) f[q] = (j >> q) & 1 ? 1.0f : -1.0f;
        f[n] = r->S[j] * r->inv_s;
    }
    rf_mlp_forward_ref(m, params, x, N, y, work);
    double loss = 0;
    for (int64_t j = 0; j < N; j++) {
        const float g = r->S[j] + r->s * y[j];
        const double d = (double)g - r->W[j];
        G[j] = g;
        loss += d * d;
        y[j] = (float)(2.0 * r->s * r->gscale * d); /* dy */
    }
    if (grad) {
        float *dx = hasp ? rf_malloc((size_t)N * F * sizeof *dx) : NULL;
        memset(grad, 0, (size_t)m->nparams * sizeof *grad);
        rf_mlp_backward_ref(m, params, x, N, y, work, grad, dx);
        if (hasp)
            for (int64_t j = 0; j < N; j++) r->p[j] = dx[j * F] * r->pscale;
        free(dx);
    }
    free(work), free(y), free(x);
    return loss * r->gscale;
}

