/* qgp_readout.c -- the fused per-entry read-out of QGP (qgp_readout.h): features, MLP forward,
 * loss, backward and dL/dp over all entries in one pass, hand-written SIMD (no BLAS).
 */
#include "kernels/vitgen/qgp_readout.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/vitgen/gen_simd.h"

enum { BLK = 128, NV = BLK / VL, LOB = 7 };

/*  * A chunk (RF_READOUT_CHUNK rows, one thread) goes in blocks of BLK = 128 rows whose first row is a
 * multiple of BLK, SIMD over VL = 16 rows: a block's per-row values are [width][NV] vectors.
 * Layer 1: the rows of a block share their bits >= LOB = 7 (one H-vector per block, folded into
 * the bias), and their bits < LOB are those of the row's index in the block, so that term is a
 * table T [H][BLK] made once per pass; the dense features are two FMAs. Layers 2 and 3 are
 * broadcast-weight FMAs over rows. Backward: dL/dz1 of each row is accumulated into its table slot
 * (tacc), whose signed sums at the chunk's end give the low-bit columns of gW1 and gb1; block sums
 * signed by the block's high bits give the others. All within-chunk sums are per SIMD lane in
 * float (the loss in double, row by row), reduced in a fixed order at the chunk's end; the
 * chunks' partials are then summed in chunk order in double. */
struct rf_readout_work {
    int H, nbits, nhi, threads;
    int64_t nchunks, np;
    size_t per_thread; /* vectors of scratch per thread */
    vf *T;             /* [H][NV]: the low bits' term of layer 1 */
    vf *scratch;       /* [threads][per_thread] */
    float *gpart;      /* [nchunks][np] */
    double *lpart;     /* [nchunks] */
    double *gsum;      /* [np] */
};

static void *alloc64(size_t bytes) {
    void *p = NULL;
    rf_check(posix_memalign(&p, 64, bytes ? bytes : 64) == 0, "readout: out of memory (%zu bytes)",
             bytes);
    return p;
}

/* Per-thread scratch, in vectors: xp, xs, y [NV]; a1, a2, tacc [H][NV]; g2 [H][H]; g3, gb2, gp, gs
 * [H]; ghi [H][nhi]; gb3 [1]. */
static size_t per_thread_vectors(int H, int nhi) {
    return 3 * NV + 3 * (size_t)H * NV + (size_t)H * H + 4 * (size_t)H + (size_t)H * nhi + 1;
}

static int64_t readout_chunks(int64_t N) { return (N + RF_READOUT_CHUNK - 1) / RF_READOUT_CHUNK; }

double rf_readout_work_bytes(int H, int nbits, int64_t N, int64_t nparams, int threads) {
    const int nhi = nbits > LOB ? nbits - LOB : 0;
    const double nc = (double)readout_chunks(N);
    return sizeof(vf) * ((double)H * NV + (double)threads * per_thread_vectors(H, nhi)) +
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
    w->per_thread = per_thread_vectors(w->H, w->nhi);
    w->T = alloc64((size_t)w->H * NV * sizeof(vf));
    w->scratch = alloc64((size_t)w->threads * w->per_thread * sizeof(vf));
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

/* Rows [c0, c1) of one chunk: writes G, returns sum (G_j - W_j)^2 (double, row order); with gpart
 * (not NULL) also writes the chunk's dL/dparams there and dL/dp_j into p. */
RF_CLONES static double chunk_run(const rf_readout *r, const rf_readout_work *w,
                                  const float *params, int64_t c0, int64_t c1, vf *sc, float *G,
                                  float *gpart) {
    const int H = w->H, n = w->nbits, nhi = w->nhi, hasp = r->p != NULL, F = n + 1 + hasp;
    const int nlo = n < LOB ? n : LOB;
    const float *W1 = params, *b1 = W1 + (int64_t)H * F, *W2 = b1 + H, *b2 = W2 + (int64_t)H * H;
    const float *W3 = b2 + H, *b3 = W3 + H;
    const float s = r->s, inv_s = r->inv_s, pscale = r->pscale;
    const float dscale = (float)(2.0 * r->s * r->gscale);
    const float *S = r->S, *Wt = r->W;
    float *p = r->p;
    vf *xp = sc, *xs = xp + NV, *y = xs + NV, *a1 = y + NV, *a2 = a1 + (size_t)H * NV;
    vf *tacc = a2 + (size_t)H * NV, *g2 = tacc + (size_t)H * NV, *g3 = g2 + (size_t)H * H;
    vf *gb2 = g3 + H, *gp = gb2 + H, *gs = gp + H, *ghi = gs + H, *gb3 = ghi + (size_t)H * nhi;
    const vf *T = w->T;
    if (gpart) memset(tacc, 0, (size_t)((gb3 + 1) - tacc) * sizeof *tacc);
    double loss = 0;
    float hb[H];
    for (int64_t b0 = c0; b0 < c1; b0 += BLK) {
        const int cnt = c1 - b0 < BLK ? (int)(c1 - b0) : BLK;
        float *xpf = (float *)xp, *xsf = (float *)xs, *yf = (float *)y;
        for (int i = 0; i < BLK; i++) {
            xpf[i] = i < cnt && hasp ? p[b0 + i] * pscale : 0.0f;
            xsf[i] = i < cnt ? S[b0 + i] * inv_s : 0.0f;
        }
        /* layer 1: bias + the block's high bits, the table, the dense features */
        for (int h = 0; h < H; h++) {
            const float *w1 = W1 + (int64_t)h * F + hasp;
            float t = b1[h];
            for (int q = LOB; q < n; q++) t += (b0 >> q) & 1 ? w1[q] : -w1[q];
            hb[h] = t;
        }
        for (int h = 0; h < H; h++) {
            const float wp = hasp ? W1[(int64_t)h * F] : 0.0f, ws = W1[(int64_t)h * F + hasp + n];
            for (int v = 0; v < NV; v++)
{
                vf z = hb[h] + T[h * NV + v] + wp * xp[v] + ws * xs[v];
                tanh_v(&z);
                a1[h * NV + v] = z;
            }
        }
        /* layer 2 */
        for (int o = 0; o < H; o++) {
            vf acc[NV];
            for (int v = 0; v < NV; v++) acc[v] = (vf){} + b2[o];
            for (int k = 0; k < H; k++) {
                const float wk = W2[o * H + k];
                for (int v = 0; v < NV; v++) acc[v] += wk * a1[k * NV + v];
            }
            for (int v = 0; v < NV; v++) tanh_v(&acc[v]), a2[o * NV + v] = acc[v];
        }
        /* layer 3 */
        {
            vf acc[NV];
            for (int v = 0; v < NV; v++) acc[v] = (vf){} + b3[0];
            for (int k = 0; k < H; k++)
                for (int v = 0; v < NV; v++) acc[v] += W3[k] * a2[k * NV + v];
            for (int v = 0; v < NV; v++) y[v] = acc[v];
        }
        /* G, the loss, dy (0 on the padding rows) */
        for (int i = 0; i < BLK; i++) {
            if (i >= cnt) {
                yf[i] = 0.0f;
                continue;
            }
            const int64_t j = b0 + i;
            const float g = S[j] + s * yf[i];
            const double d = (double)g - Wt[j];
            G[j] = g;
            loss += d * d;
            yf[i] = (float)(dscale * d);
        }
        if (!gpart) continue;
        /* layer 3 backward: a2 becomes d2 */
        for (int v = 0; v < NV; v++) gb3[0] += y[v];
        for (int k = 0; k < H; k++)
            for (int v = 0; v < NV; v++) {
                const vf a = a2[k * NV + v];
                g3[k] += y[v] * a;
                a2[k * NV + v] = y[v] * W3[k] * (1.0f - a * a);
            }
        /* layer 2 backward: gW2 += d2^T a1, then a1 becomes d1 */
        for (int o = 0; o < H; o++) {
            vf d[NV], sb = {};
            for (int v = 0; v < NV; v++) d[v] = a2[o * NV + v], sb += d[v];
            gb2[o] += sb;
            for (int k = 0; k < H; k++) {
                vf acc = g2[o * H + k];
                for (int v = 0; v < NV; v++) acc += d[v] * a1[k * NV + v];
                g2[o * H + k] = acc;
            }
        }
        for (int k = 0; k < H; k++) {
            vf acc[NV];
            for (int v = 0; v < NV; v++) acc[v] = (vf){};
            for (int o = 0; o < H; o++) {
                const float wk = W2[o * H + k];
                for (int v = 0; v < NV; v++) acc[v] += wk * a2[o * NV + v];
            }
            for (int v = 0; v < NV; v++) {
                const vf a = a1[k * NV + v];
                a1[k * NV + v] = acc[v] * (1.0f - a * a);
            }
        }
        /* layer 1 backward */
        for (int h = 0; h < H; h++) {
            vf sb = {}, sp = {}, ss = {};
            for (int v = 0; v < NV; v++) {
                const vf d = a1[h * NV + v];
                sb += d, sp += d * xp[v], ss += d * xs[v];
                tacc[h * NV + v] += d;
            }
            gp[h] += sp, gs[h] += ss;
            for (int q = LOB; q < n; q++) {
                vf *gq = ghi + (size_t)h * nhi + (q - LOB);
                if ((b0 >> q) & 1) *gq += sb;
                else *gq -= sb;
            }
        }
        if (hasp) {
            vf acc[NV];
            for (int v = 0; v < NV; v++) acc[v] = (vf){};
            for (int h = 0; h < H; h++) {
                const float wp = W1[(int64_t)h * F];
                for (int v = 0; v < NV; v++) acc[v] += wp * a1[h * NV + v];
            }
            const float *af = (const float *)acc;
            for (int i = 0; i < cnt; i++) p[b0 + i] = af[i] * pscale;
        }
    }
    if (gpart) {
        float *gW1 = gpart, *gb1 = gW1 + (int64_t)H * F, *gW2 = gb1 + H, *gb2f = gW2 + (int64_t)H * H;
        float *gW3 = gb2f + H, *gb3f = gW3 + H;
        for (int h = 0; h < H; h++) {
            const float *t = (const float *)(tacc + h * NV);
            float *g = gW1 + (int64_t)h * F;
            if (hasp) g[0] = (float)hsum(&gp[h]);
            for (int q = 0; q < nlo; q++) {
                double a = 0;
                for (int i = 0; i < BLK; i++) a += (i >> q) & 1 ? t[i] : -t[i];
                g[hasp + q] = (float)a;
            }
            for (int q = LOB; q < n; q++) g[hasp + q] = (float)hsum(&ghi[(size_t)h * nhi + (q - LOB)]);
            g[hasp + n] = (float)hsum(&gs[h]);
            double a = 0;
            for (int i = 0; i < BLK; i++) a += t[i];
            gb1[h] = (float)a;
        }
        for (int o = 0; o < H; o++) {
            for (int k = 0; k < H; k++) gW2[o * H + k] = (float)hsum(&g2[o * H + k]);
            gb2f[o] = (float)hsum(&gb2[o]);
            gW3[o] = (float)hsum(&g3[o]);
        }
        gb3f[0] = (float)hsum(&gb3[0]);
    }
    return loss;
}

double rf_readout_eval(const rf_readout *r, rf_readout_work *w, const float *params, float *G,
                       float *grad) {
    const int H = w->H, n = w->nbits, hasp = r->p != NULL, F = n + 1 + hasp;
    const int nlo = n < LOB ? n : LOB;
    /* the low bits' table */
    for (int h = 0; h < H; h++) {
        const float *w1 = params + (int64_t)h * F + hasp;
        float *t = (float *)(w->T + h * NV);
        for (int i = 0; i < BLK; i++) {
            float a = 0;
            for (int q = 0; q < nlo; q++) a += (i >> q) & 1 ? w1[q] : -w1[q];
            t[i] = a;
        }
    }
    const int64_t nc = w->nchunks, np = w->np;
#pragma omp parallel for schedule(dynamic) num_threads(w->threads)
    for (int64_t c = 0; c < nc; c++) {
        const int64_t c0 = c * RF_READOUT_CHUNK;
        const int64_t c1 = r->N - c0 < RF_READOUT_CHUNK ? r->N : c0 + RF_READOUT_CHUNK;
        vf *sc = w->scratch + (size_t)omp_get_thread_num() * w->per_thread;
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

