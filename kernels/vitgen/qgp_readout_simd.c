/* qgp_readout_simd.c -- the fused read-out's chunk kernel (qgp_readout.h) for one SIMD path,
 * compiled once per path by rf_simd_objects (qgp_readout.c dispatches): features, MLP forward,
 * loss, backward and dL/dp over the rows of one chunk, hand-written SIMD (no BLAS).
 *
 * Blocks of BLK = 128 rows, SIMD over VL rows (the path's float width: 16, 8 or 4): a block's
 * per-row values are [width][NV] vectors. Layer 1: the rows of a block share their bits >= LOB
 * (one H-vector per block, folded into the bias), and their bits < LOB come from the table T
 * (qgp_readout_internal.h); the dense features are two FMAs. Layers 2 and 3 are broadcast-weight
 * FMAs over rows. Backward: dL/dz1 of each row is accumulated into its table slot (tacc), whose
 * signed sums at the chunk's end give the low-bit columns of gW1 and gb1; block sums signed by the
 * block's high bits give the others. All within-chunk sums are per SIMD lane in float (the loss in
 * double, row by row), reduced in a fixed order at the chunk's end, so a path's results do not
 * depend on the thread count; paths differ by their lane count (the order of those float sums)
 * and FMA.
 */
#include <string.h>

#include "kernels/vitgen/gen_simd.h"
#include "kernels/vitgen/qgp_readout_internal.h"

enum { BLK = RF_READOUT_BLK, NV = BLK / VL, LOB = RF_READOUT_LOB };
_Static_assert((int)VL <= (int)RF_READOUT_VL_MAX, "the scratch is sized for RF_READOUT_VL_MAX lanes");

double RF_SIMD_FN(rf_readout_chunk)(const rf_readout *r, const rf_readout_work *w,
                                    const float *params, int64_t c0, int64_t c1, float *scratch,
                                    float *G, float *gpart) {
    const int H = w->H, n = w->nbits, nhi = w->nhi, hasp = r->p != NULL, F = n + 1 + hasp;
    const int nlo = n < LOB ? n : LOB;
    const float *W1 = params, *b1 = W1 + (int64_t)H * F, *W2 = b1 + H, *b2 = W2 + (int64_t)H * H;
    const float *W3 = b2 + H, *b3 = W3 + H;
    const float s = r->s, inv_s = r->inv_s, pscale = r->pscale;
    const float dscale = (float)(2.0 * r->s * r->gscale);
    const float *S = r->S, *Wt = r->W;
    float *p = r->p;
    vf *xp = (vf *)scratch, *xs = xp + NV, *y = xs + NV, *a1 = y + NV, *a2 = a1 + (size_t)H * NV;
    vf *tacc = a2 + (size_t)H * NV, *g2 = tacc + (size_t)H * NV, *g3 = g2 + (size_t)H * H;
    vf *gb2 = g3 + H, *gp = gb2 + H, *gs = gp + H, *ghi = gs + H, *gb3 = ghi + (size_t)H * nhi;
    const vf *T = (const vf *)w->T;
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

