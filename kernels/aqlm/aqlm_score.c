/* aqlm_score.c -- nearest codewords: aqlm_topk_scores dispatched to the SIMD path of the process
 * (common/rf_simd.h; the loop itself is aqlm_score_simd.c, compiled once per path), and the
 * codeword norms it needs.
 */
#include <cblas.h>
#include <stdlib.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"
#include "kernels/aqlm/aqlm_internal.h"

typedef void topk_fn(const float *x, const float *a, int64_t n, int d, const float *C,
                     const float *N, int K, int top, int32_t *idx, float *val);
topk_fn aqlm_topk_scores_baseline, aqlm_topk_scores_avx2, aqlm_topk_scores_avx512;

void aqlm_topk_scores(const float *x, const float *a, int64_t n, int d, const float *C,
                      const float *N, int K, int top, int32_t *idx, float *val) {
    static topk_fn *const path[RF_SIMD_NPATHS] = RF_SIMD_TABLE(aqlm_topk_scores);
    path[rf_simd_path()](x, a, n, d, C, N, K, top, idx, val);
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
