/* aqlm_score_simd.c -- aqlm_topk_scores for one SIMD path (compiled once per path by
 * rf_simd_objects; aqlm_score.c dispatches): the one hot loop that k-means assignment and
 * beam-search scoring share (aqlm_internal.h states the contract).
 *
 *   score(i, k) = a[i] * N[k] - 2 <C[k], x[i]>      x [n, d], C [K, d], N [K]
 *
 * The inner dimension d = og*ig is small (4..32), so this is no GEMM worth packing for. The SIMD
 * lanes run over vectors, not codewords: a block of R x LANES vectors (LANES = the path's native
 * float width, R rows of it) is transposed to xT = -2 x^T [d, R, LANES] once; then for every
 * codeword k the block's scores take d fused multiply-adds per row with C[k, e] broadcast, and
 * each lane keeps its own best `top` (a branch-free insertion network; for top = 1 a running
 * minimum). No horizontal reductions, any K, any top.
 *
 * The vector type is exactly one register of the path: a wider GNU vector (16 floats on AVX2) is
 * lowered through the stack. R is as large as keeps xT in registers (d * R <= 3/4 of them), so
 * that a codeword costs one broadcast load per e and R FMAs. Every lane computes
 * a N[k] + sum_e xT[e] C[k, e] in the same order whatever R and LANES are, so a path's result
 * does not depend on its blocking; paths with FMA (avx2, avx512, aarch64) round alike, x86's
 * baseline (no FMA) rounds each product.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/rf_simd_path.h"
#include "kernels/aqlm/aqlm_internal.h"

#define INLINE static inline __attribute__((always_inline))

enum { LANES = RF_SIMD_F32_LANES, RMAX = 4, X_REGS = RF_SIMD_REGS * 3 / 4 };
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(LANES * sizeof(int32_t))));

/* An unaligned load of LANES floats (a macro: vector-valued functions would change the ABI). */
#define LOAD(v, p) memcpy(&(v), (p), sizeof(vf))
#define SELECT_F(m, a, b) ((vf)(((vi)(a) & (m)) | ((vi)(b) & ~(m)))) /* m ? a : b */
#define SELECT_I(m, a, b) (((a) & (m)) | ((b) & ~(m)))

/* The block's scores against codeword c: s[r] = a[r] n + sum_e xT[e, r] c[e], xT holding -2 x.
 * R and d are literals at the call sites: the loops unroll and xT stays in registers. */
INLINE void block_scores(const float *xT, const vf *a, int R, int d, const float *c, float n,
                         vf *s) {
    vf acc[RMAX];
    for (int r = 0; r < R; r++) acc[r] = a[r] * n;
    for (int e = 0; e < d; e++)
        for (int r = 0; r < R; r++) {
            vf x;
            LOAD(x, xT + (e * R + r) * LANES);
            acc[r] += x * c[e];
        }
    for (int r = 0; r < R; r++) s[r] = acc[r];
}

/* top == 1: per-lane minimum; strict, so ties keep the lower k. */
INLINE void block_min(const float *xT, const vf *a, int R, int d, const float *C, const float *N,
                      int K, vf *best, vi *best_k) {
    vf b[RMAX], s[RMAX];
    vi bk[RMAX];
    for (int r = 0; r < R; r++) b[r] = best[r], bk[r] = best_k[r];
    for (int k = 0; k < K; k++) {
        block_scores(xT, a, R, d, C + (int64_t)k * d, N[k], s);
        const vi kk = (vi){0} + k;
        for (int r = 0; r < R; r++) {
            const vi m = s[r] < b[r];
            b[r] = SELECT_F(m, s[r], b[r]), bk[r] = SELECT_I(m, kk, bk[r]);
        }
    }
    for (int r = 0; r < R; r++) best[r] = b[r], best_k[r] = bk[r];
}

/* Any top: each lane's ascending list v[r*top + j] gets every score by an insertion network. */
INLINE void block_topk(const float *xT, const vf *a, int R, int d, const float *C, const float *N,
                       int K, int top, vf *v, vi *vk) {
    for (int k = 0; k < K; k++) {
        vf s[RMAX];
        block_scores(xT, a, R, d, C + (int64_t)k * d, N[k], s);
        for (int r = 0; r < R; r++) {
            vf x = s[r];
            vi xk = (vi){0} + k;
            for (int j = 0; j < top; j++) { /* swap x into place; the displaced entry moves on */
                const vi m = x < v[r * top + j];
                const vf y = v[r * top + j];
                const vi yk = vk[r * top + j];
                v[r * top + j] = SELECT_F(m, x, y), vk[r * top + j] = SELECT_I(m, xk, yk);
                x = SELECT_F(m, y, x), xk = SELECT_I(m, yk, xk);
            }
        }
    }
}

/* One copy per (R, d) for the common group sizes, so that d is a literal and the loops unroll. */
#define BY_D(R, call_d)                                                                            \
    switch (d) {                                                                                   \
    case 4: call_d(R, 4); break;                                                                   \
    case 8: call_d(R, 8); break;                                                                   \
    case 16: call_d(R, 16); break;                                                                 \
    case 32: call_d(R, 32); break;                                                                 \
    default: call_d(R, d);                                                                         \
    }
#define MIN_D(R, D) block_min(xT, a, R, D, C, N, K, v, vk)
#define TOPK_D(R, D) block_topk(xT, a, R, D, C, N, K, top, v, vk)

static void score_block(const float *xT, const vf *a, int R, int d, const float *C,
                        const float *N, int K, int top, vf *v, vi *vk) {
    if (top == 1) {
        if (R == 4) BY_D(4, MIN_D) else if (R == 2) BY_D(2, MIN_D) else BY_D(1, MIN_D)
    } else {
        if (R == 4) BY_D(4, TOPK_D) else if (R == 2) BY_D(2, TOPK_D) else BY_D(1, TOPK_D)
    }
}

void RF_SIMD_FN(aqlm_topk_scores)(const float *x, const float *a, int64_t n, int d,
                                  const float *C, const float *N, int K, int top, int32_t *idx,
                                  float *val) {
    const int R = 4 * d <= X_REGS ? 4 : 2 * d <= X_REGS ? 2 : 1, block = R * LANES;
    float xT[AQLM_MAX_D * RMAX * LANES], as[RMAX * LANES], tv[RMAX * AQLM_MAX_BEAM * LANES];
    int32_t tk[RMAX * AQLM_MAX_BEAM * LANES];
    vf av[RMAX], v[RMAX * AQLM_MAX_BEAM];
    vi vk[RMAX * AQLM_MAX_BEAM];
    for (int64_t i0 = 0; i0 < n; i0 += block) {
        const int nb = n - i0 < block ? (int)(n - i0) : block;
        if (nb < block) memset(xT, 0, sizeof(float) * d * block); /* a short block: zeros */
        for (int t = 0; t < nb; t++) {
            const float *xi = x + (i0 + t) * d;
            for (int e = 0; e < d; e++) xT[e * block + t] = -2.0f * xi[e];
            as[t] = a ? a[i0 + t] : 1.0f;
        }
        for (int t = nb; t < block; t++) as[t] = 0;
        memcpy(av, as, sizeof(vf) * R);
        for (int j = 0; j < R * top; j++) v[j] = (vf){0} + INFINITY, vk[j] = (vi){0} - 1;
        score_block(xT, av, R, d, C, N, K, top, v, vk);
        memcpy(tv, v, sizeof(vf) * R * top); /* [R, top, LANES] */
        memcpy(tk, vk, sizeof(vi) * R * top);
        for (int t = 0; t < nb; t++)
            for (int j = 0; j < top; j++) {
                const int at = ((t / LANES) * top + j) * LANES + t % LANES;
                val[(i0 + t) * top + j] = tv[at];
                idx[(i0 + t) * top + j] = tk[at];
            }
    }
}
