/* aqlm_score.c -- nearest codewords: the one hot loop that k-means assignment and beam-search
 * scoring share (aqlm_internal.h states the contract), and the codeword norms it needs.
 *
 *   score(i, k) = a[i] * N[k] - 2 <C[k], x[i]>      x [n, d], C [K, d], N [K]
 *
 * The inner dimension d = og*ig is small (4..32), so this is no GEMM worth packing for. The SIMD
 * lanes run over vectors, not codewords: a block of 2 x LANES vectors is transposed to
 * xT = -2 x^T [d, 2, LANES] once, then for every codeword k the block's 2 x LANES scores take d
 * fused multiply-adds with C[k, e] broadcast, and each lane keeps its own best `top` (a
 * branch-free insertion network; for top = 1 a running minimum). No horizontal reductions, any K,
 * any top.
 * GNU vector types keep the block in registers; target_clones builds AVX-512, AVX2 and baseline
 * variants and picks one at load time (bit-identical run to run on one machine; other CPUs may
 * round differently, as OpenBLAS does).
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/aqlm/aqlm_internal.h"

/* The x86-64 levels and target_clones are x86's; elsewhere (aarch64, NEON in its baseline) the
 * target's default flags build the one path. */
#if defined(__x86_64__)
#define RF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RF_CLONES
#endif
#define INLINE static inline __attribute__((always_inline))

enum { LANES = 16, BLOCK = 2 * LANES };
typedef float vf __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(LANES * sizeof(int32_t))));

/* An unaligned load of LANES floats (a macro: vector-valued functions would change the ABI). */
#define LOAD(v, p) memcpy(&(v), (p), sizeof(vf))
#define SELECT_F(m, a, b) ((vf)(((vi)(a) & (m)) | ((vi)(b) & ~(m)))) /* m ? a : b */
#define SELECT_I(m, a, b) (((a) & (m)) | ((b) & ~(m)))

/* The block's scores against codeword c: s[t] = a[t] n + sum_e xT[e, t] c[e], xT holding -2 x. */
INLINE void block_scores(const float *xT, const vf *a, int d, const float *c, float n, vf *s0,
                         vf *s1) {
    vf x0, x1, acc0 = a[0] * n, acc1 = a[1] * n;
    for (int e = 0; e < d; e++) {
        LOAD(x0, xT + e * BLOCK);
        LOAD(x1, xT + e * BLOCK + LANES);
        acc0 += x0 * c[e];
        acc1 += x1 * c[e];
    }
    *s0 = acc0, *s1 = acc1;
}

/* top == 1: per-lane minimum. d is a literal at the call sites below, so the e loop unrolls and
 * xT stays in registers. */
INLINE void block_min(const float *xT, const vf *a, int d, const float *C, const float *N, int K,
                      vf *best, vi *best_k) {
    vf b0 = best[0], b1 = best[1], s0, s1;
    vi k0 = best_k[0], k1 = best_k[1];
    for (int k = 0; k < K; k++) {
        block_scores(xT, a, d, C + (int64_t)k * d, N[k], &s0, &s1);
        vi kk = (vi){0} + k, m0 = s0 < b0, m1 = s1 < b1; /* strict: ties keep the lower k */
        b0 = SELECT_F(m0, s0, b0), k0 = SELECT_I(m0, kk, k0);
        b1 = SELECT_F(m1, s1, b1), k1 = SELECT_I(m1, kk, k1);
    }
    best[0] = b0, best[1] = b1, best_k[0] = k0, best_k[1] = k1;
}

/* Any top: each lane's ascending list v[t*top + j] gets every score by an insertion network. */
INLINE void block_topk(const float *xT, const vf *a, int d, const float *C, const float *N, int K,
                       int top, vf *v, vi *vk) {
    for (int k = 0; k < K; k++) {
        vf s[2];
        block_scores(xT, a, d, C + (int64_t)k * d, N[k], &s[0], &s[1]);
        for (int t = 0; t < 2; t++) {
            vf x = s[t];
            vi xk = (vi){0} + k;
            for (int j = 0; j < top; j++) { /* swap x into place; the displaced entry moves on */
                vi m = x < v[t * top + j];
                vf y = v[t * top + j];
                vi yk = vk[t * top + j];
                v[t * top + j] = SELECT_F(m, x, y), vk[t * top + j] = SELECT_I(m, xk, yk);
                x = SELECT_F(m, y, x), xk = SELECT_I(m, yk, xk);
            }
        }
    }
}

RF_CLONES static void score_block(const float *xT, const vf *a, int d, const float *C,
                                  const float *N, int K, int top, vf *v, vi *vk) {
    if (top == 1) {
        switch (d) { /* the common group sizes get their own unrolled copy */
        case 8:
            block_min(xT, a, 8, C, N, K, v, vk);
            break;
        case 16:
            block_min(xT, a, 16, C, N, K, v, vk);
            break;
        default:
            block_min(xT, a, d, C, N, K, v, vk);
        }
    } else {
        block_topk(xT, a, d, C, N, K, top, v, vk);
    }
}

void aqlm_topk_scores(const float *x, const float *a, int64_t n, int d, const float *C,
                      const float *N, int K, int top, int32_t *idx, float *val) {
    float xT[AQLM_MAX_D * BLOCK], as[BLOCK], tv[2 * AQLM_MAX_BEAM * LANES];
    int32_t tk[2 * AQLM_MAX_BEAM * LANES];
    vf av[2], v[2 * AQLM_MAX_BEAM];
    vi vk[2 * AQLM_MAX_BEAM];
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int nb = n - i0 < BLOCK ? (int)(n - i0) : BLOCK;
        if (nb < BLOCK) memset(xT, 0, sizeof(float) * d * BLOCK); /* a short block: zeros */
        for (int t = 0; t < nb; t++) {
            const float *xi = x + (i0 + t) * d;
            for (int e = 0; e < d; e++) xT[e * BLOCK + t] = -2.0f * xi[e];
            as[t] = a ? a[i0 + t] : 1.0f;
        }
        for (int t = nb; t < BLOCK; t++) as[t] = 0;
        memcpy(av, as, sizeof av);
        for (int j = 0; j < 2 * top; j++) v[j] = (vf){0} + INFINITY, vk[j] = (vi){0} - 1;
        score_block(xT, av, d, C, N, K, top, v, vk);
        memcpy(tv, v, sizeof(vf) * 2 * top); /* [2, top, LANES] */
        memcpy(tk, vk, sizeof(vi) * 2 * top);
        for (int t = 0; t < nb; t++)
            for (int j = 0; j < top; j++) {
                int at = ((t / LANES) * top + j) * LANES + t % LANES;
                val[(i0 + t) * top + j] = tv[at];
                idx[(i0 + t) * top + j] = tk[at];
            }
    }
}

void aqlm_codeword_norms(const float *C, int K, int og, int ig, const float *H, int64_t ldh,
                         float *N) {
    const int d = og * ig;
    float *HC = NULL; /* C's rows times H: [K*og, ig] */
    if (H) {
        HC = rf_malloc((size_t)K * d * sizeof *HC);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K * og, ig, ig, 1.0f, C, ig, H,
                    (int)ldh, 0.0f, HC, ig);
    }
    const float *R = H ? HC : C; /* H symmetric: c^T H c = <c, c H> row by row */
    for (int k = 0; k < K; k++) {
        float acc = 0;
        for (int e = 0; e < d; e++) acc += C[(int64_t)k * d + e] * R[(int64_t)k * d + e];
        N[k] = acc;
    }
    free(HC);
}
