/* gen_mlp.c -- the read-out MLP of the ViT generators and Adam (gen_mlp.h).
 *
 *   forward   a_0 = x [B, s_0];  z_l = a_l W_l^T + b_l [B, s_{l+1}];  a_{l+1} = tanh(z_l) for
 *             hidden layers, y = z_{last}.
 *   backward  d_last = dy;  gW_l += d_l^T a_l;  gb_l += column sums of d_l;
 *             da_l = d_l W_l;  d_{l-1} = da_l * (1 - a_l^2).
 * work [B * (sum of hidden sizes + max hidden size)]: the hidden activations a_1.. (forward), then
 * backward turns each a_l into d_{l-1} in place once its last reader (gW_l) is done, with da_l in
 * the extra slab. Products are row-major sgemm; everything else is elementwise or a fixed-order
 * serial sum, so results depend only on OpenBLAS's thread count. The _ref twins are plain loops
 * accumulating in double, same layouts.
 * rf_readout_eval (qgp's fused read-out over all entries) is hand-written SIMD instead (no BLAS):
 * see its section below.
 */
#include "kernels/gen_mlp.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"

void rf_mlp_init(rf_mlp *m, int nlayers, const int *sizes) {
    rf_check(nlayers >= 1 && nlayers <= RF_MLP_MAX_LAYERS, "mlp: %d layers", nlayers);
    memset(m, 0, sizeof *m);
    m->nlayers = nlayers;
    for (int l = 0; l <= nlayers; l++) {
        rf_check(sizes[l] >= 1, "mlp: size %d of layer %d", sizes[l], l);
        m->sizes[l] = sizes[l];
    }
    for (int l = 0; l < nlayers; l++) m->nparams += (int64_t)(sizes[l] + 1) * sizes[l + 1];
}

void rf_mlp_init_params(const rf_mlp *m, float *params, uint64_t seed, int zero_last) {
    rf_rng r;
    rf_rng_init(&r, seed);
    float *p = params;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const int zero = zero_last && l == m->nlayers - 1;
        const double sd = 1.0 / sqrt((double)fin);
        for (int64_t k = 0; k < (int64_t)fout * fin; k++) p[k] = zero ? 0.0f : (float)(sd * rf_rng_normal(&r));
        memset(p + (int64_t)fout * fin, 0, (size_t)fout * sizeof *p);
        p += (int64_t)(fin + 1) * fout;
    }
}

/* tanh of every element, in place, vectorizable (libm's tanhf is a scalar call per element and
 * was most of the forward's time). |x| < 0.4: the Taylor series to x^15 (next term < 3e-10
 * relative); otherwise 1 - 2 / (e^{2|x|} + 1) with e^y = 2^k e^r, k = round(y / ln 2),
 * |r| <= ln2 / 2, e^r by its Taylor series to r^8 (error < 5e-9). |x| >= 9 rounds to +-1 in
 * float anyway, so y is clamped at 18. Within 2 float ulps of tanh; NaN stays NaN.
 * Both branches are computed and the choices are made with integer masks on the bits: float
 * compares and branches keep GCC (default -ftrapping-math) from vectorizing the loop. */
typedef union {
    int32_t i;
    float f;
} f32_bits;

static void tanh_inplace(float *z, int64_t n) {
    const int32_t b9 = 0x41100000, b04 = 0x3ecccccd, inf = 0x7f800000; /* 9.0f, 0.4f, inf */
#pragma omp parallel for simd schedule(static)
    for (int64_t k = 0; k < n; k++) {
        const f32_bits x = {.f = z[k]};
        const int32_t ab = x.i & 0x7fffffff;
        const float x2 = x.f * x.f;
        float ps = -1.4558343870513183e-3f;
        ps = ps * x2 + 3.592128036572481e-3f;
        ps = ps * x2 - 8.863235529902197e-3f;
        ps = ps * x2 + 2.1869488536155203e-2f;
        ps = ps * x2 - 5.396825396825397e-2f;
        ps = ps * x2 + 1.3333333333333333e-1f;
        ps = ps * x2 - 3.333333333333333e-1f;
        const f32_bits small = {.f = x.f + x.f * x2 * ps};
        const int32_t clamp = -(ab < b9);
        const f32_bits hy = {.i = (ab & clamp) | (b9 & ~clamp)}; /* min(|x|, 9) */
        const float y = 2.0f * hy.f;
        /* round to nearest by adding and removing 1.5 * 2^23 (rintf is not vectorized) */
        const float kf = (y * 1.4426950408889634f + 12582912.0f) - 12582912.0f;
        const float r = (y - kf * 0.693145751953125f) - kf * 1.428606765330187e-06f; /* ln 2 hi+lo */
        float e = 1.0f / 40320;
        e = e * r + 1.0f / 5040;
        e = e * r + 1.0f / 720;
        e = e * r + 1.0f / 120;
        e = e * r + 1.0f / 24;
        e = e * r + 1.0f / 6;
        e = e * r + 0.5f;
        e = e * r + 1.0f;
        e = e * r + 1.0f;
        const f32_bits two_k = {.i = ((int32_t)kf + 127) << 23}; /* k <= 26 */
        const f32_bits big = {.f = 1.0f - 2.0f / (e * two_k.f + 1.0f)};
        /* masks, not ternaries: GCC would sink each branch's math under a branch */
        const int32_t use_small = -(ab < b04), nan = -(ab > inf);
        const int32_t res = (small.i & use_small) | ((big.i | (x.i & INT32_MIN)) & ~use_small);
        const f32_bits out = {.i = (x.i & nan) | (res & ~nan)};
        z[k] = out.f;
    }
}

static int max_hidden(const rf_mlp *m) {
    int h = 0;
    for (int l = 1; l < m->nlayers; l++) h = m->sizes[l] > h ? m->sizes[l] : h;
    return h;
}

size_t rf_mlp_work_floats(const rf_mlp *m, int64_t batch) {
    size_t sum = 0;
    for (int l = 1; l < m->nlayers; l++) sum += (size_t)m->sizes[l];
    return (size_t)batch * (sum + (size_t)max_hidden(m));
}

/* Pointers of layer l's W and b in params, and of a_l (l >= 1) in work. */
static const float *layer_w(const rf_mlp *m, const float *params, int l) {
    for (int k = 0; k < l; k++) params += (int64_t)(m->sizes[k] + 1) * m->sizes[k + 1];
    return params;
}

static float *act(const rf_mlp *m, float *work, int64_t batch, int l) {
    for (int k = 1; k < l; k++) work += batch * m->sizes[k];
    return work;
}

void rf_mlp_forward(const rf_mlp *m, const float *params, const float *x, int64_t batch, float *y,
                    float *work) {
    rf_check(batch >= 0 && batch <= INT_MAX, "mlp: batch %lld", (long long)batch);
    const float *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1], last = l == m->nlayers - 1;
        const float *W = layer_w(m, params, l), *b = W + (int64_t)fout * fin;
        float *z = last ? y : act(m, work, batch, l + 1);
        /* z starts as the bias rows so that one sgemm with beta = 1 adds the product */
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < batch; i++) memcpy(z + i * fout, b, (size_t)fout * sizeof *z);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch, fout, fin, 1.0f, in, fin,
                    W, fin, 1.0f, z, fout);
        if (!last) tanh_inplace(z, batch * fout);
        in = z;
    }
}

void rf_mlp_backward(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                     const float *dy, float *work, float *grad, float *dx) {
    rf_check(batch >= 0 && batch <= INT_MAX, "mlp: batch %lld", (long long)batch);
    float *da = act(m, work, batch, m->nlayers); /* the slab after the last activation */
    const float *d = dy;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const float *W = layer_w(m, params, l);
        float *gW = grad + (W - params), *gb = gW + (int64_t)fout * fin;
        float *a = l > 0 ? act(m, work, batch, l) : NULL;
        const float *in = l > 0 ? a : x;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, fout, fin, (int)batch, 1.0f, d, fout,
                    in, fin, 1.0f, gW, fin);
        /* bias: rows summed in order, in double, so the sum does not depend on the threads */
        for (int o = 0; o < fout; o++) {
            double s = 0;
            for (int64_t i = 0; i < batch; i++) s += d[i * fout + o];
            gb[o] += (float)s;
        }
        if (l == 0 && !dx) break;
        float *dst = l > 0 ? da : dx;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch, fin, fout, 1.0f, d, fout,
                    W, fin, 0.0f, dst, fin);
        if (l > 0) {
#pragma omp parallel for schedule(static)
            for (int64_t k = 0; k < batch * fin; k++) a[k] = da[k] * (1.0f - a[k] * a[k]);
            d = a;
        }
    }
}

void rf_mlp_forward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                        float *y, float *work) {
    const float *in = x;
    for (int l = 0; l < m->nlayers; l++) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1], last = l == m->nlayers - 1;
        const float *W = layer_w(m, params, l), *b = W + (int64_t)fout * fin;
        float *z = last ? y : act(m, work, batch, l + 1);
        for (int64_t i = 0; i < batch; i++)
            for (int o = 0; o < fout; o++) {
                double s = b[o];
                for (int k = 0; k < fin; k++) s += (double)in[i * fin + k] * W[o * fin + k];
                z[i * fout + o] = (float)(last ? s : tanh(s));
            }
        in = z;
    }
}

void rf_mlp_backward_ref(const rf_mlp *m, const float *params, const float *x, int64_t batch,
                         const float *dy, float *work, float *grad, float *dx) {
    float *da = act(m, work, batch, m->nlayers);
    const float *d = dy;
    for (int l = m->nlayers - 1; l >= 0; l--) {
        const int fin = m->sizes[l], fout = m->sizes[l + 1];
        const float *W = layer_w(m, params, l);
        float *gW = grad + (W - params), *gb = gW + (int64_t)fout * fin;
        float *a = l > 0 ? act(m, work, batch, l) : NULL;
        const float *in = l > 0 ? a : x;
        for (int o = 0; o < fout; o++) {
            double sb = 0;
            for (int64_t i = 0; i < batch; i++) sb += d[i * fout + o];
            gb[o] += (float)sb;
            for (int k = 0; k < fin; k++) {
                double s = 0;
                for (int64_t i = 0; i < batch; i++) s += (double)d[i * fout + o] * in[i * fin + k];
                gW[o * fin + k] += (float)s;
            }
        }
        if (l == 0 && !dx) break;
        float *dst = l > 0 ? da : dx;
        for (int64_t i = 0; i < batch; i++)
            for (int k = 0; k < fin; k++) {
                double s = 0;
                for (int o = 0; o < fout; o++) s += (double)d[i * fout + o] * W[o * fin + k];
                dst[i * fin + k] = (float)s;
            }
        if (l > 0) {
            for (int64_t k = 0; k < batch * fin; k++) a[k] = (float)((double)da[k] * (1.0 - (double)a[k] * a[k]));
            d = a;
        }
    }
}

/* ---- the fused read-out (gen_mlp.h: rf_readout_eval) ----
 * A chunk (RF_READOUT_CHUNK rows, one thread) goes in blocks of BLK = 128 rows whose first row is a
 * multiple of BLK, SIMD over VL = 16 rows: a block's per-row values are [width][NV] vectors.
 * Layer 1: the rows of a block share their bits >= LOB = 7 (one H-vector per block, folded into
 * the bias), and their bits < LOB are those of the row's index in the block, so that term is a
 * table T [H][BLK] made once per pass; the dense features are two FMAs. Layers 2 and 3 are
 * broadcast-weight FMAs over rows. Backward: dL/dz1 of each row is accumulated into its table slot
 * (tacc), whose signed sums at the chunk's end give the low-bit columns of gW1 and gb1; block sums
 * signed by the block's high bits give the others. All within-chunk sums are per SIMD lane in
 * float (the loss in double, row by row), reduced in a fixed order at the chunk's end; the
 * chunks' partials are then summed in chunk order in double. */
enum { VL = 16, BLK = 128, NV = BLK / VL, LOB = 7 };
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));

#define RF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define INLINE static inline __attribute__((always_inline))

/* *z = tanh(*z): tanh_inplace's formula on a vector (its comments); vector compares give the -1/0
 * masks. Pointers, not vector values: those would change the ABI between the clones. */
INLINE void tanh_v(vf *z) {
    const vf x = *z;
    const vi xi = (vi)x, ab = xi & 0x7fffffff;
    const vi b9 = (vi){} + 0x41100000, b04 = (vi){} + 0x3ecccccd, inf = (vi){} + 0x7f800000;
    const vf x2 = x * x;
    vf ps = (vf){} - 1.4558343870513183e-3f;
    ps = ps * x2 + 3.592128036572481e-3f;
    ps = ps * x2 - 8.863235529902197e-3f;
    ps = ps * x2 + 2.1869488536155203e-2f;
    ps = ps * x2 - 5.396825396825397e-2f;
    ps = ps * x2 + 1.3333333333333333e-1f;
    ps = ps * x2 - 3.333333333333333e-1f;
    const vi small = (vi)(x + x * x2 * ps);
    const vi clamp = ab < b9;
    const vf hy = (vf)((ab & clamp) | (b9 & ~clamp));
    const vf y = 2.0f * hy;
    const vf kf = (y * 1.4426950408889634f + 12582912.0f) - 12582912.0f;
    const vf r = (y - kf * 0.693145751953125f) - kf * 1.428606765330187e-06f;
    vf e = (vf){} + 1.0f / 40320;
    e = e * r + 1.0f / 5040;
    e = e * r + 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    const vf two_k = (vf)((__builtin_convertvector(kf, vi) + 127) << 23);
    const vi big = (vi)(1.0f - 2.0f / (e * two_k + 1.0f));
    const vi use_small = ab < b04, nan = ab > inf;
    const vi res = (small & use_small) | ((big | (xi & INT32_MIN)) & ~use_small);
    *z = (vf)((xi & nan) | (res & ~nan));
}

INLINE double hsum(const vf *v) {
    const float *f = (const float *)v;
    double s = 0;
    for (int l = 0; l < VL; l++) s += f[l];
    return s;
}

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

void rf_adam_init(rf_adam *a, int64_t n) {
    a->n = n;
    a->t = 0;
    a->m = rf_calloc((size_t)(n > 0 ? n : 1), sizeof *a->m);
    a->v = rf_calloc((size_t)(n > 0 ? n : 1), sizeof *a->v);
}

void rf_adam_step(rf_adam *a, float *params, const float *grad, double lr) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    a->t++;
    /* bias corrections folded into the step size and eps: p -= lr c1 m / (sqrt(v) c2 + eps) with
     * c1 = 1 / (1 - b1^t), c2 = 1 / sqrt(1 - b2^t) */
    const double c1 = 1.0 / (1.0 - pow(b1, a->t)), c2 = 1.0 / sqrt(1.0 - pow(b2, a->t));
    float *m = a->m, *v = a->v;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < a->n; k++) {
        const double g = grad[k];
        const double mk = b1 * m[k] + (1 - b1) * g, vk = b2 * v[k] + (1 - b2) * g * g;
        m[k] = (float)mk;
        v[k] = (float)vk;
        params[k] -= (float)(lr * c1 * mk / (sqrt(vk) * c2 + eps));
    }
}

void rf_adam_free(rf_adam *a) {
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}
