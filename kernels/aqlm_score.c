/* aqlm_score.c -- nearest codewords: the one hot loop that k-means assignment and beam-search
 * scoring share (aqlm_internal.h states the contract).
 *
 *   score(i, k) = a[i] * N[k] - 2 <C[k], x[i]>      x [n, d], C [K, d], N [K], a [n]
 *
 * The dot products come from cblas_sgemm on tiles of TN vectors x TK codewords (the tile of scores
 * stays in L2); a second, branch-free pass adds a*N and keeps the best per vector. For top == 1
 * (k-means, beam 1: the common case) the best is tracked per SIMD lane so the compiler can
 * vectorize it; top > 1 uses a small insertion list.
 */
#include <cblas.h>
#include <math.h>

#include "kernels/aqlm_internal.h"

enum { TN = 32, TK = 512, LANES = 8 };

/* Folds the lowest a*N[k] - 2*S[k], k in [0, kt), into (*best, *best_k); indices are offset by k0. */
static void row_argmin(const float *restrict S, const float *restrict N, float a, int kt,
                       int k0, float *best, int32_t *best_k) {
    float lv[LANES];
    int32_t lk[LANES];
    for (int l = 0; l < LANES; l++) lv[l] = INFINITY, lk[l] = -1;
    int k = 0;
    for (; k + LANES <= kt; k += LANES) {
        for (int l = 0; l < LANES; l++) { /* if-converted: compiles to compare + blend */
            float s = a * N[k + l] - 2.0f * S[k + l];
            int take = s < lv[l];
            lv[l] = take ? s : lv[l];
            lk[l] = take ? k + l : lk[l];
        }
    }
    for (; k < kt; k++) {
        float s = a * N[k] - 2.0f * S[k];
        if (s < lv[0]) lv[0] = s, lk[0] = k; /* k exceeds every index the lanes hold */
    }
    /* Lanes hold interleaved indices: on equal scores the lower index wins, as in a serial scan. */
    for (int l = 0; l < LANES; l++) {
        if (lk[l] < 0) continue;
        if (lv[l] < *best || (lv[l] == *best && k0 + lk[l] < *best_k))
            *best = lv[l], *best_k = k0 + lk[l];
    }
}

/* Inserts (s, k) into the ascending list val/idx of length top if it belongs there. */
static inline void topk_insert(float *val, int32_t *idx, int top, float s, int32_t k) {
    if (!(s < val[top - 1])) return; /* equal scores keep the earlier (lower) k */
    int j = top - 1;
    while (j > 0 && s < val[j - 1]) {
        val[j] = val[j - 1];
        idx[j] = idx[j - 1];
        j--;
    }
    val[j] = s;
    idx[j] = k;
}

void aqlm_topk_scores(const float *x, const float *a, int64_t n, int d, const float *C,
                      const float *N, int K, int top, int32_t *idx, float *val) {
    float S[TN * TK];
    for (int64_t i = 0; i < n * top; i++) val[i] = INFINITY, idx[i] = -1;
    for (int64_t i0 = 0; i0 < n; i0 += TN) {
        int nt = n - i0 < TN ? (int)(n - i0) : TN;
        for (int k0 = 0; k0 < K; k0 += TK) {
            int kt = K - k0 < TK ? K - k0 : TK;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nt, kt, d, 1.0f, x + i0 * d, d,
                        C + (int64_t)k0 * d, d, 0.0f, S, kt);
            for (int i = 0; i < nt; i++) {
                float ai = a ? a[i0 + i] : 1.0f;
                const float *row = S + (int64_t)i * kt;
                float *v = val + (i0 + i) * top;
                int32_t *id = idx + (i0 + i) * top;
                if (top == 1) {
                    row_argmin(row, N + k0, ai, kt, k0, v, id);
                } else {
                    for (int k = 0; k < kt; k++)
                        topk_insert(v, id, top, ai * N[k0 + k] - 2.0f * row[k], k0 + k);
                }
            }
        }
    }
}

void aqlm_codeword_norms(const float *C, int K, int og, int ig, const float *H, int64_t ldh,
                         float *N) {
    int d = og * ig;
    for (int k = 0; k < K; k++) {
        const float *c = C + (int64_t)k * d;
        float acc = 0;
        for (int r = 0; r < og; r++) {
            const float *cr = c + r * ig;
            if (!H) {
                for (int b = 0; b < ig; b++) acc += cr[b] * cr[b];
                continue;
            }
            for (int b = 0; b < ig; b++) {
                float hc = 0; /* (H cr)[b] */
                for (int e = 0; e < ig; e++) hc += H[b * ldh + e] * cr[e];
                acc += cr[b] * hc;
            }
        }
        N[k] = acc;
    }
}
