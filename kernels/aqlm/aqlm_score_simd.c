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
 * lowered through the stack. R (1 or 2) is as large as keeps xT in half the registers, and U = 4
 * codewords are scored at once (R x U independent FMA chains), so that a codeword costs one
 * broadcast load per e and R FMAs. Blocks go in groups and codewords in L2-sized chunks (see
 * aqlm_topk_scores below). Every lane computes
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

#ifndef SCORE_U /* (-D overrides, for tuning with benchmarks/bench_simd) */
#define SCORE_U 4
#endif
enum { LANES = RF_SIMD_F32_LANES, RMAX = 2, UMAX = 4, X_REGS = RF_SIMD_REGS / 2 };
/* Blocking (aqlm_topk_scores): a group's transposed vectors, at most NBG_MAX blocks of them (xT
 * floats); a chunk of codewords, floats. */
enum { XT_FLOATS = 8192, NBG_MAX = 16, CHUNK_FLOATS = 32768 };
_Static_assert(SCORE_U >= 1 && SCORE_U <= UMAX, "SCORE_U: 1 to UMAX codewords per step");
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(LANES * sizeof(int32_t))));

/* An unaligned load of LANES floats (a macro: vector-valued functions would change the ABI). */
#define LOAD(v, p) memcpy(&(v), (p), sizeof(vf))
#define SELECT_F(m, a, b) ((vf)(((vi)(a) & (m)) | ((vi)(b) & ~(m)))) /* m ? a : b */
#define SELECT_I(m, a, b) (((a) & (m)) | ((b) & ~(m)))

/* Whether any lane of the mask m is set. */
INLINE int any_lane(vi m) {
    int64_t w[LANES / 2], o = 0;
    memcpy(w, &m, sizeof m);
    for (int l = 0; l < LANES / 2; l++) o |= w[l];
    return o != 0;
}

/* The scores of the block's R rows against the U codewords C[k..k+U) (norms N[k..]):
 * s[u*R + r] = a[r] N[k+u] + sum_e xT[e, r] C[k+u, e], xT holding -2 x. R x U independent
 * accumulators hide the FMA latency; each row's xT[e] is loaded once for U codewords. R, U and d
 * are literals at the call sites: the loops unroll and xT stays in registers when it fits. */
INLINE void block_scores(const float *xT, const vf *a, int R, int U, int d, const float *C,
                         const float *N, int k, vf *s) {
    vf acc[RMAX * UMAX];
    for (int u = 0; u < U; u++)
        for (int r = 0; r < R; r++) acc[u * R + r] = a[r] * N[k + u];
    for (int e = 0; e < d; e++)
        for (int r = 0; r < R; r++) {
            vf x;
            LOAD(x, xT + (e * R + r) * LANES);
            for (int u = 0; u < U; u++) acc[u * R + r] += x * C[(int64_t)(k + u) * d + e];
        }
    for (int j = 0; j < U * R; j++) s[j] = acc[j];
}

/* top == 1: per-lane minimum over the codewords [k0, K) in order; strict, so ties keep the lower
 * k. */
INLINE void block_min(const float *xT, const vf *a, int R, int U, int d, const float *C,
                      const float *N, int k0, int K, vf *best, vi *best_k) {
    vf b[RMAX], s[RMAX * UMAX];
    vi bk[RMAX];
    for (int r = 0; r < R; r++) b[r] = best[r], bk[r] = best_k[r];
    int k = k0;
    for (; k + U <= K; k += U) {
        block_scores(xT, a, R, U, d, C, N, k, s);
        for (int u = 0; u < U; u++) {
            const vi kk = (vi){0} + (k + u);
            for (int r = 0; r < R; r++) {
                const vi m = s[u * R + r] < b[r];
                b[r] = SELECT_F(m, s[u * R + r], b[r]), bk[r] = SELECT_I(m, kk, bk[r]);
            }
        }
    }
    for (; k < K; k++) { /* the last K mod U */
        block_scores(xT, a, R, 1, d, C, N, k, s);
        const vi kk = (vi){0} + k;
        for (int r = 0; r < R; r++) {
            const vi m = s[r] < b[r];
            b[r] = SELECT_F(m, s[r], b[r]), bk[r] = SELECT_I(m, kk, bk[r]);
        }
    }
    for (int r = 0; r < R; r++) best[r] = b[r], best_k[r] = bk[r];
}

/* Row r's ascending list v[r*top ..] takes score x of codeword k by an insertion network, unless
 * no lane beats the list's last entry (after the first codewords, most scores do not). */
INLINE void insert(vf x, int k, int top, vf *v, vi *vk) {
    if (!any_lane(x < v[top - 1])) return;
    vi xk = (vi){0} + k;
    for (int j = 0; j < top; j++) { /* swap x into place; the displaced entry moves on */
        const vi m = x < v[j];
        const vf y = v[j];
        const vi yk = vk[j];
        v[j] = SELECT_F(m, x, y), vk[j] = SELECT_I(m, xk, yk);
        x = SELECT_F(m, y, x), xk = SELECT_I(m, yk, xk);
    }
}

/* Any top: each lane keeps its `top` best of the codewords [k0, K) in ascending order. */
INLINE void block_topk(const float *xT, const vf *a, int R, int U, int d, const float *C,
                       const float *N, int k0, int K, int top, vf *v, vi *vk) {
    vf s[RMAX * UMAX];
    int k = k0;
    for (; k + U <= K; k += U) {
        block_scores(xT, a, R, U, d, C, N, k, s);
        for (int u = 0; u < U; u++)
            for (int r = 0; r < R; r++) insert(s[u * R + r], k + u, top, v + r * top, vk + r * top);
    }
    for (; k < K; k++) {
        block_scores(xT, a, R, 1, d, C, N, k, s);
        for (int r = 0; r < R; r++) insert(s[r], k, top, v + r * top, vk + r * top);
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
#define MIN_D(R, D) block_min(xT, a, R, SCORE_U, D, C, N, k0, K, v, vk)
#define TOPK_D(R, D) block_topk(xT, a, R, SCORE_U, D, C, N, k0, K, top, v, vk)

static void score_block(const float *xT, const vf *a, int R, int d, const float *C,
                        const float *N, int k0, int K, int top, vf *v, vi *vk) {
    if (top == 1) {
        if (R == 2) BY_D(2, MIN_D) else BY_D(1, MIN_D)
    } else {
        if (R == 2) BY_D(2, TOPK_D) else BY_D(1, TOPK_D)
    }
}

void RF_SIMD_FN(aqlm_topk_scores)(const float *x, const float *a, int64_t n, int d,
                                  const float *C, const float *N, int K, int top, int32_t *idx,
                                  float *val) {
    const int R = 2 * d <= X_REGS ? 2 : 1, block = R * LANES;
    /* Blocks in groups whose xT fits in L1, codewords in chunks of about 128 KiB (L2) that every
     * block of the group takes in turn: a large codebook (2^16 codewords: 4 MiB at d = 16) then
     * streams from memory once per group, not once per block. */
    const int nbg = XT_FLOATS / (d * block) < NBG_MAX ? XT_FLOATS / (d * block) : NBG_MAX;
    const int kc = CHUNK_FLOATS / d > SCORE_U ? CHUNK_FLOATS / d : SCORE_U;
    float xT[XT_FLOATS], as[NBG_MAX * RMAX * LANES], tv[RMAX * AQLM_MAX_BEAM * LANES];
    int32_t tk[RMAX * AQLM_MAX_BEAM * LANES];
    vf av[NBG_MAX * RMAX], v[nbg * R * top];
    vi vk[nbg * R * top];
    for (int64_t g0 = 0; g0 < n; g0 += (int64_t)nbg * block) {
        const int ng = n - g0 < (int64_t)nbg * block ? (int)(n - g0) : nbg * block;
        const int nblk = (ng + block - 1) / block;
        memset(xT, 0, sizeof(float) * d * block * nblk); /* a short block: zeros */
        for (int t = 0; t < ng; t++) {
            const float *xi = x + (g0 + t) * d;
            float *xb = xT + (t / block) * d * block;
            for (int e = 0; e < d; e++) xb[e * block + t % block] = -2.0f * xi[e];
            as[t] = a ? a[g0 + t] : 1.0f;
        }
        for (int t = ng; t < nblk * block; t++) as[t] = 0;
        memcpy(av, as, sizeof(vf) * R * nblk);
        for (int j = 0; j < nblk * R * top; j++) v[j] = (vf){0} + INFINITY, vk[j] = (vi){0} - 1;
        for (int k0 = 0; k0 < K; k0 += kc)
            for (int b = 0; b < nblk; b++)
                score_block(xT + b * d * block, av + b * R, R, d, C, N, k0,
                            K - k0 < kc ? K : k0 + kc, top, v + b * R * top, vk + b * R * top);
        for (int b = 0; b < nblk; b++) {
            memcpy(tv, v + b * R * top, sizeof(vf) * R * top); /* [R, top, LANES] */
            memcpy(tk, vk + b * R * top, sizeof(vi) * R * top);
            for (int t = b * block; t < ng && t < (b + 1) * block; t++)
                for (int j = 0; j < top; j++) {
                    const int tb = t - b * block, at = ((tb / LANES) * top + j) * LANES + tb % LANES;
                    val[(g0 + t) * top + j] = tv[at];
                    idx[(g0 + t) * top + j] = tk[at];
                }
        }
    }
}
