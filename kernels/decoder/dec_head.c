/* dec_head.c -- the model's head on one sequence, the fast path: final RMSNorm, logits = x_n
 * lm_head^T by sgemm in blocks of rows (a [T, V] block for a 150k vocabulary would be 1.2 GB at
 * T = 2048), then each position's negative log-likelihood of the next token (log-sum-exp in
 * double). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/decoder/dec_internal.h"

enum { HEAD_ROWS = 64 };

/* -log softmax(row)[target], the sum in double (V terms). */
static double row_nll(const float *row, int V, int target) {
    float m = row[0];
    for (int j = 1; j < V; j++) m = row[j] > m ? row[j] : m;
    double sum = 0;
    for (int j = 0; j < V; j++) sum += exp((double)row[j] - m);
    return log(sum) + m - row[target];
}

void rf_dec_head(const rf_dec_config *c, const float *final_norm, const float *lm_head,
                 const float *x, int T, const int32_t *tokens, double *nll, float *logits) {
    int H = c->hidden, V = c->vocab;
    float *xn = rf_malloc((size_t)HEAD_ROWS * H * sizeof(float));
    float *lg = logits ? NULL : rf_malloc((size_t)HEAD_ROWS * V * sizeof(float));
    for (int t0 = 0; t0 < T; t0 += HEAD_ROWS) {
        int rows = T - t0 < HEAD_ROWS ? T - t0 : HEAD_ROWS;
        float *out = logits ? logits + (int64_t)t0 * V : lg;
        rf_dec_rmsnorm(x + (int64_t)t0 * H, final_norm, xn, rows, H, c->rms_eps);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, V, H, 1.0f, xn, H, lm_head, H,
                    0.0f, out, V);
#pragma omp parallel for schedule(static)
        for (int r = 0; r < rows; r++)
            if (t0 + r < T - 1) nll[t0 + r] = row_nll(out + (int64_t)r * V, V, tokens[t0 + r + 1]);
    }
    free(xn);
    free(lg);
}

void rf_dec_head_ref(const rf_dec_config *c, const float *final_norm, const float *lm_head,
                     const float *x, int T, const int32_t *tokens, double *nll, float *logits) {
    int H = c->hidden, V = c->vocab;
    float *xn = rf_malloc((size_t)H * sizeof(float));
    float *row = rf_malloc((size_t)V * sizeof(float));
    for (int t = 0; t < T; t++) {
        rf_dec_rmsnorm(x + (int64_t)t * H, final_norm, xn, 1, H, c->rms_eps);
        for (int j = 0; j < V; j++) {
            double s = 0;
            for (int i = 0; i < H; i++) s += (double)xn[i] * lm_head[(int64_t)j * H + i];
            row[j] = (float)s;
        }
        if (logits) memcpy(logits + (int64_t)t * V, row, (size_t)V * sizeof(float));
        if (t < T - 1) nll[t] = row_nll(row, V, tokens[t + 1]);
    }
    free(xn);
    free(row);
}
