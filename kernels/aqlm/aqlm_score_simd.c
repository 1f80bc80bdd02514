/* aqlm_score_simd.c -- aqlm_topk_scores for one SIMD path (compiled once per path by
 * rf_simd_objects; aqlm_score.c dispatches): the one hot loop that k-means assignment and
 * beam-search scoring share (aqlm_internal.h states the contract).
 *
 *   score(i, k) = a[i] * N[k] - 2 <C[k], x[i]>      x [n, d], C [K, d], N [K]
 *
 * The inner dimension d = og*ig is small (4..32), so this is no GEMM worth packing for. The SIMD
 * lanes run over vectors, not codewords: a block of R x LANES vectors (LANES = the path's native
 * float width, R = 2 rows of it) is transposed to xT = -2 x^T [d, R, LANES] once; then for every
 * codeword k the block's scores take d fused multiply-adds per row with C[k, e] broadcast, and
 * each lane keeps its own best `top` (a branch-free insertion network; for top = 1 a running
 * minimum, over groups of codewords when K is large: block_min). No horizontal reductions, any K,
 * any top.
 *
 * The vector type is exactly one register of the path: a wider GNU vector (16 floats on AVX2) is
 * lowered through the stack. U = 4 codewords (SCORE_U; 2 on aarch64) are scored at once (R x U
 * independent FMA chains), so that a codeword costs one broadcast load per e and R FMAs; xT stays
 * in registers where it fits (2 d <= 16 with AVX-512) and is read from L1 where it does not,
 * which bench_simd measured faster than one row of registers (R = 1) for d = 16 and 32. Blocks
 * go in groups and codewords in L2-sized chunks (see aqlm_topk_scores below). Every lane computes
 * a N[k] + sum_e xT[e] C[k, e] in the same order whatever LANES and the blocking are, so a path's
 * result does not depend on them; paths with FMA (avx2, avx512, aarch64) round alike, x86's
 * baseline (no FMA) rounds each product.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/rf_simd_path.h"
#include "kernels/aqlm/aqlm_internal.h"

#define INLINE static inline __attribute__((always_inline))

/* Codewords per step (-D overrides, for tuning with benchmarks/bench_simd). Two on aarch64: NEON's
 * by-element multiply-adds hold the codewords in registers too, and with four the d = 8 loops
 * spill to the stack (aarch64-linux-gnu-gcc 12), with two they do not. */
#ifndef SCORE_U
#if defined(__aarch64__)
#define SCORE_U 2
#else
#define SCORE_U 4
#endif
#endif
enum { LANES = RF_SIMD_F32_LANES, R = 2, UMAX = 4 };
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

/* a N[k], the start of a score, as a rounded product of its own. Where the target has FMA, GNU C
 * (-ffp-contract=fast) fuses a product into the add that takes it, and a N[k] + x_0 C[k, 0] has
 * two: `+ 0` fuses a N[k] with the 0, so that x_0 C[k, 0] is the one fused into the next add in
 * block_scores and first_in_group alike. Without FMA nothing is fused, and the add would cost. */
#ifdef __FP_FAST_FMAF
#define OWN_PRODUCT(p) ((p) + 0)
#else
#define OWN_PRODUCT(p) (p)
#endif

/* The scores of the block's R rows against the U codewords C[k..k+U) (norms N[k..]):
 * s[u*R + r] = a[r] N[k+u] + sum_e xT[e, r] C[k+u, e], xT holding -2 x; unit_a (a = 1, the
 * k-means assignment) starts from N[k+u] itself and saves the multiply (`- 0`, which the compiler
 * drops, makes the vector; `0 +` would stay an add). R x U independent accumulators hide the FMA
 * latency; each row's xT[e] is loaded once for U codewords. U, d and unit_a are literals at the
 * call sites: the loops unroll and xT stays in registers when it fits. */
INLINE void block_scores(const float *xT, const vf *a, int unit_a, int U, int d,
                         const float *C, const float *N, int k, vf *s) {
    vf acc[R * UMAX];
    for (int u = 0; u < U; u++)
        for (int r = 0; r < R; r++)
            acc[u * R + r] = unit_a ? N[k + u] - (vf){0} : OWN_PRODUCT(a[r] * N[k + u]);
    for (int e = 0; e < d; e++)
        for (int r = 0; r < R; r++) {
            vf x;
            LOAD(x, xT + (e * R + r) * LANES);
            for (int u = 0; u < U; u++) acc[u * R + r] += x * C[(int64_t)(k + u) * d + e];
        }
    for (int j = 0; j < U * R; j++) s[j] = acc[j];
}

/* Row r's lowest score among the n codewords from u0 of a step's scores s [U, R]. */
INLINE vf row_low(const vf *s, int r, int u0, int n) {
    vf low = s[u0 * R + r];
    for (int u = 1; u < n; u++) low = RF_SIMD_MIN_F32(low, s[(u0 + u) * R + r]);
    return low;
}

/* The lanes where low beats *b take it, and the group's first codeword kg. */
INLINE void take_lower(vf low, vi kg, vf *b, vi *bg) {
    const vi m = low < *b;
    *b = SELECT_F(m, low, *b), *bg = SELECT_I(m, kg, *bg);
}

/* top == 1: per lane the lowest score, and the first group of G codewords that holds it (G = 1 or
 * U, a literal). G = 1 follows the codeword itself, a compare and two selects per row and
 * codeword. G = U costs U - 1 minimums, a compare and two selects per row and group, and then
 * first_in_group finds the codeword in the group: U d multiply-adds per vector, which pay off once
 * K is large (see grouped in aqlm_topk_scores). Ties keep the lower k, as a strict running minimum
 * would. Groups never straddle a chunk of codewords; a chunk's last K mod U are groups of one, and
 * first_in_group's scan from such a one finds it first. */
INLINE void block_min(const float *xT, const vf *a, int unit_a, int U, int G, int d,
                      const float *C, const float *N, int k0, int K, vf *best, vi *best_g) {
    vf b[R], s[R * UMAX];
    vi bg[R];
    for (int r = 0; r < R; r++) b[r] = best[r], bg[r] = best_g[r];
    int k = k0;
    for (; k + U <= K; k += U) {
        block_scores(xT, a, unit_a, U, d, C, N, k, s);
        for (int g = 0; g < U; g += G)
            for (int r = 0; r < R; r++)
                take_lower(row_low(s, r, g, G), (vi){0} + (k + g), b + r, bg + r);
    }
    for (; k < K; k++) { /* the last K mod U, groups of one */
        block_scores(xT, a, unit_a, 1, d, C, N, k, s);
        for (int r = 0; r < R; r++) take_lower(s[r], (vi){0} + k, b + r, bg + r);
    }
    for (int r = 0; r < R; r++) best[r] = b[r], best_g[r] = bg[r];
}

/* The first codeword of the group [kg, kg + U) (clipped to K) whose score is exactly `best`, the
 * lane's lowest: its scores computed as block_scores does (the same operations in the same order,
 * so the same bits; xl[e * stride] is the lane's -2 x[e]), U independent chains. The compiler
 * fuses block_scores' multiply-adds where the target has FMA (see OWN_PRODUCT); fmaf says so
 * here, where the vectorizer would otherwise make products and an in-order sum of this loop. */
static int32_t first_in_group(const float *xl, int stride, float a, int unit_a, int d,
                              const float *C, const float *N, int K, int32_t kg, float best) {
    if (kg < 0) return -1; /* no score below infinity */
    const int n = K - kg < SCORE_U ? K - kg : SCORE_U;
    float acc[SCORE_U];
    for (int u = 0; u < n; u++) acc[u] = unit_a ? N[kg + u] : OWN_PRODUCT(a * N[kg + u]);
    for (int e = 0; e < d; e++)
        for (int u = 0; u < n; u++)
#ifdef __FP_FAST_FMAF
            acc[u] = fmaf(xl[e * stride], C[(int64_t)(kg + u) * d + e], acc[u]);
#else
            acc[u] += xl[e * stride] * C[(int64_t)(kg + u) * d + e];
#endif
    for (int u = 0; u < n; u++)
        if (acc[u] == best) return kg + u;
    return kg; /* not reached: the group holds `best` */
}

/* Row r's ascending list v[r*top ..] takes score x of codeword k by an insertion network. */
INLINE void insert(vf x, int k, int top, vf *v, vi *vk) {
    vi xk = (vi){0} + k;
    for (int j = 0; j < top; j++) { /* swap x into place; the displaced entry moves on */
        const vi m = x < v[j];
        const vf y = v[j];
        const vi yk = vk[j];
        v[j] = SELECT_F(m, x, y), vk[j] = SELECT_I(m, xk, yk);
        x = SELECT_F(m, y, x), xk = SELECT_I(m, yk, xk);
    }
}

/* The step's scores s [U, R] of codewords k.. go into each row's list: those that beat a lane's
 * last entry as it was before the step (block_topk's slow part, out of line so that the step loop
 * stays small and keeps the last entries in registers). Testing them all first, not each after
 * the insertion before it, lets the insertions overlap: each test would wait for the whole
 * network ahead of it. */
static void insert_step(const vf *s, int U, int k, int top, vf *v, vi *vk) {
    for (int r = 0; r < R; r++) {
        const vf last = v[r * top + top - 1];
        int beat[UMAX];
        for (int u = 0; u < U; u++) beat[u] = RF_SIMD_ANY_LT_F32(s[u * R + r], last);
        for (int u = 0; u < U; u++)
            if (beat[u]) insert(s[u * R + r], k + u, top, v + r * top, vk + r * top);
    }
}

/* Any top: each lane keeps its `top` best of the codewords [k0, K) in ascending order. A step
 * whose lowest scores beat no lane's last entry costs U - 1 minimums and a compare per row (with
 * many codewords, most steps). */
INLINE void block_topk(const float *xT, const vf *a, int U, int d, const float *C,
                       const float *N, int k0, int K, int top, vf *v, vi *vk) {
    vf s[R * UMAX], last[R];
    for (int r = 0; r < R; r++) last[r] = v[r * top + top - 1];
    int k = k0;
    for (; k + U <= K; k += U) {
        block_scores(xT, a, 0, U, d, C, N, k, s);
        int beats = 0;
        for (int r = 0; r < R; r++) beats |= RF_SIMD_ANY_LT_F32(row_low(s, r, 0, U), last[r]);
        if (!beats) continue;
        insert_step(s, U, k, top, v, vk);
        for (int r = 0; r < R; r++) last[r] = v[r * top + top - 1];
    }
    for (; k < K; k++) {
        block_scores(xT, a, 0, 1, d, C, N, k, s);
        insert_step(s, 1, k, top, v, vk);
    }
}

/* xT [d, block] = -2 x^T for the block's nv vectors x [nv, d], zeros past them (a short last
 * block). With d a literal (BY_D) the compiler turns the strided reads into shuffles. */
INLINE void transpose_block(const float *x, int nv, int d, float *xT) {
    enum { BLOCK = R * LANES };
    if (nv < BLOCK) memset(xT, 0, sizeof(float) * d * BLOCK);
    for (int e = 0; e < d; e++)
        if (nv == BLOCK) /* (a loop of its own: one with a condition stays scalar) */
            for (int l = 0; l < BLOCK; l++) xT[e * BLOCK + l] = -2.0f * x[l * d + e];
        else
            for (int l = 0; l < nv; l++) xT[e * BLOCK + l] = -2.0f * x[l * d + e];
}

/* One copy per d for the common group sizes, so that d is a literal and the loops unroll; top 1
 * also per unit_a and G. */
#define BY_D(call_d)                                                                               \
    switch (d) {                                                                                   \
    case 4: call_d(4); break;                                                                      \
    case 8: call_d(8); break;                                                                      \
    case 16: call_d(16); break;                                                                    \
    case 32: call_d(32); break;                                                                    \
    default: call_d(d);                                                                            \
    }
#define MIN_D(D, UNIT_A, G) block_min(xT, a, UNIT_A, SCORE_U, G, D, C, N, k0, K, v, vk)
#define MIN_EACH_D(D) MIN_D(D, 0, 1)
#define MIN_EACH_A1_D(D) MIN_D(D, 1, 1)
#define MIN_GROUPED_D(D) MIN_D(D, 0, SCORE_U)
#define MIN_GROUPED_A1_D(D) MIN_D(D, 1, SCORE_U)
#define TRANSPOSE_D(D) transpose_block(x + t0 * d, nv, D, xT + b * d * block)
#define TOPK_D(D) block_topk(xT, a, SCORE_U, D, C, N, k0, K, top, v, vk)

static void score_block(const float *xT, const vf *a, int unit_a, int grouped, int d,
                        const float *C, const float *N, int k0, int K, int top, vf *v, vi *vk) {
    if (top > 1) BY_D(TOPK_D)
    else if (grouped && unit_a) BY_D(MIN_GROUPED_A1_D)
    else if (grouped) BY_D(MIN_GROUPED_D)
    else if (unit_a) BY_D(MIN_EACH_A1_D)
    else BY_D(MIN_EACH_D)
}

void RF_SIMD_FN(aqlm_topk_scores)(const float *x, const float *a, int64_t n, int d,
                                  const float *C, const float *N, int K, int top, int32_t *idx,
                                  float *val) {
    const int block = R * LANES;
    /* Top 1 in groups of U codewords (block_min) from 1024 codewords: bench_simd and bench_aqlm
     * measured groups faster at K = 1024 on every path, slower or no faster at K = 256 (2x8's
     * codebooks), where first_in_group's work is large against the scan's. */
    const int grouped = top == 1 && K >= 1024;
    /* Blocks in groups whose xT fits in L1, codewords in chunks of about 128 KiB (L2) that every
     * block of the group takes in turn: a large codebook (2^16 codewords: 4 MiB at d = 16) then
     * streams from memory once per group, not once per block. */
    const int nbg = XT_FLOATS / (d * block) < NBG_MAX ? XT_FLOATS / (d * block) : NBG_MAX;
    const int kc = CHUNK_FLOATS / d > SCORE_U ? CHUNK_FLOATS / d : SCORE_U;
    float xT[XT_FLOATS], as[NBG_MAX * R * LANES], tv[R * AQLM_MAX_BEAM * LANES];
    int32_t tk[R * AQLM_MAX_BEAM * LANES];
    vf av[NBG_MAX * R], v[nbg * R * top];
    vi vk[nbg * R * top];
    for (int64_t g0 = 0; g0 < n; g0 += (int64_t)nbg * block) {
        const int ng = n - g0 < (int64_t)nbg * block ? (int)(n - g0) : nbg * block;
        const int nblk = (ng + block - 1) / block;
        for (int b = 0; b < nblk; b++) {
            const int64_t t0 = g0 + (int64_t)b * block;
            const int nv = n - t0 < block ? (int)(n - t0) : block;
            BY_D(TRANSPOSE_D)
        }
        for (int t = 0; t < nblk * block; t++) as[t] = t >= ng ? 0 : a ? a[g0 + t] : 1.0f;
        memcpy(av, as, sizeof(vf) * R * nblk);
        for (int j = 0; j < nblk * R * top; j++) v[j] = (vf){0} + INFINITY, vk[j] = (vi){0} - 1;
        for (int k0 = 0; k0 < K; k0 += kc)
            for (int b = 0; b < nblk; b++)
                score_block(xT + b * d * block, av + b * R, !a, grouped, d, C, N, k0,
                            K - k0 < kc ? K : k0 + kc, top, v + b * R * top, vk + b * R * top);
        for (int b = 0; b < nblk; b++) { /* lane l of row r's list entry j: vector r LANES + l */
            memcpy(tv, v + b * R * top, sizeof(vf) * R * top); /* [R, top, LANES] */
            memcpy(tk, vk + b * R * top, sizeof(vi) * R * top);
            for (int r = 0; r < R; r++) {
                const int64_t t0 = g0 + (int64_t)b * block + r * LANES;
                const int nl = n - t0 < LANES ? (int)(n - t0) : LANES;
                if (top == 1 && nl > 0) { /* the lanes in order */
                    memcpy(val + t0, tv + r * LANES, sizeof(float) * nl);
                    memcpy(idx + t0, tk + r * LANES, sizeof(int32_t) * nl);
                } else
                    for (int j = 0; j < top; j++)
                        for (int l = 0; l < nl; l++) {
                            val[(t0 + l) * top + j] = tv[(r * top + j) * LANES + l];
                            idx[(t0 + l) * top + j] = tk[(r * top + j) * LANES + l];
                        }
                for (int l = 0; grouped && l < nl; l++) /* the lane's -2 x: stride block */
                    idx[t0 + l] = first_in_group(xT + b * d * block + r * LANES + l, block,
                                                 as[b * block + r * LANES + l], !a, d, C, N, K,
                                                 idx[t0 + l], val[t0 + l]);
            }
        }
    }
}
