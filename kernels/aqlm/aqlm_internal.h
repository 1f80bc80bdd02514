/* aqlm_internal.h -- the parts of rf_aqlm_quantize, each with its plain scalar *_ref twin
 * (aqlm_ref.c), exposed to kernels/ and to tests/kernels only.
 *
 * Notation (see aqlm.h): W [out, in], og/ig the group sizes, d = og*ig the length of one codeword,
 * Og = out/og and Ig = in/ig the group counts, M codebooks of K codewords. A "group" (o, i) is the
 * og x ig block W[o*og : o*og+og, i*ig : i*ig+ig], flattened row-major into d floats, the layout of
 * one codeword codebooks[m, k] = float[og][ig].
 * XTX may be NULL everywhere: the identity (plain weight MSE).
 */
#ifndef RF_AQLM_INTERNAL_H
#define RF_AQLM_INTERNAL_H

#include <stdint.h>

#include "common/rf_rng.h"
#include "kernels/aqlm/aqlm.h"

/* Limits of the fixed-size scratch in the hot loops (rf_aqlm_check_config enforces them). */
#define AQLM_MAX_D 256   /* og * ig */
#define AQLM_MAX_BEAM 32 /* beam_size */
/* The beam search scores the hypotheses of max(AQLM_BEAM_BLOCK / beam_size, 1) out-groups in one
 * aqlm_topk_scores call. */
#define AQLM_BEAM_BLOCK 32
/* The k-means assignment scores AQLM_KMEANS_CHUNK points in one aqlm_topk_scores call. */
#define AQLM_KMEANS_CHUNK 256

/* ---- the cost model (aqlm_config.c) and the progress of its parts ---- */

/* rf_aqlm_quantize's work in FLOP, part by part: rf_aqlm_predicted_flops is `total`, and the
 * progress rf_aqlm_quantize reports is the share of `total` its finished parts add up to. */
typedef struct {
    double kmeans_iter;   /* one k-means iteration over the fitted points, for one codebook */
    double kmeans_assign; /* the assignment of all points to one codebook's centroids */
    double init;          /* M x (init_max_iter iterations + the assignment) */
    double loss;          /* one loss and gradient: an Adam step, or the loss an epoch reports */
    double beam_scoring;  /* the scoring loop of one beam pass: all K codewords of every codebook
                             for each of beam_size hypotheses of every group */
    double beam_pass;     /* scoring + the product that starts the pass */
    double epoch;         /* max(steps_per_epoch, 1) losses + one beam pass */
    double errors;        /* the float64 errors of the result */
    double total;         /* init + max_epochs epochs + the loss after the last one + errors */
} aqlm_cost;

aqlm_cost aqlm_cost_model(int64_t out, int64_t in, const rf_aqlm_config *cfg);

/* The share [from, from + span] of the run's progress that one part (a k-means fit, an
 * assignment, a beam pass) reports into: after each piece of its work it reports
 * from + span * (its share done), rising, from + span at its end. It reports from the thread that
 * called it (never an OpenMP worker) and stops at the next boundary when the callback answers
 * nonzero, returning RF_CANCELLED. A NULL aqlm_progress (or fn) reports nothing. */
typedef struct {
    rf_progress_fn fn;
    void *ctx;
    double from, span;
} aqlm_progress;

/* Reports from + span * share; returns the callback's answer (0: go on). */
static inline int aqlm_progress_report(const aqlm_progress *p, double share) {
    return p ? rf_progress_at(p->fn, p->ctx, p->from + p->span * share) : 0;
}

/* The piece [a, b] (0 <= a < b <= 1) of p's share, for a part's own parts. */
static inline aqlm_progress aqlm_progress_piece(const aqlm_progress *p, double a, double b) {
    if (!p) return (aqlm_progress){0};
    return (aqlm_progress){p->fn, p->ctx, p->from + p->span * a, p->span * (b - a)};
}

/* ---- scales (aqlm_quantize.c) ---- */

/* scales [out/og] = the L2 norm of each out-group's og rows of W [out, in] + 1e-9, and
 * Wn = W / scale [out, in]: what the k-means initialization encodes. RF_ERR (one line) when an
 * out-group holds NaN or its norm is beyond float16's range (65504), which the checkpoint's
 * float16 scales cannot hold. */
int aqlm_init_scales(const float *W, int64_t out, int64_t in, int og, float *scales, float *Wn);

/* ---- nearest codewords: k-means assignment and beam-search scoring are the same product ----
 *
 * For n vectors x [n, d] and K codewords C [K, d] with precomputed norms N [K] and per-vector
 * weights a [n] (NULL: all 1):   score(i, k) = a[i] * N[k] - 2 <C[k], x[i]>.
 * k-means: a = 1, N[k] = |C[k]|^2 (score = |x - C[k]|^2 - |x|^2). Beam search: x = s * (the
 * XTX-weighted residual), a = s^2, N[k] = C[k]^T XTX[g,g] C[k] (aqlm_beam.c derives it).
 * Writes the `top` (<= AQLM_MAX_BEAM) lowest scores of each vector in ascending order (ties: lower
 * k first) to val[i*top + j] and their codeword indices to idx[i*top + j]; d <= AQLM_MAX_D.
 * Serial: callers parallelize. */
void aqlm_topk_scores(const float *x, const float *a, int64_t n, int d, const float *C,
                      const float *N, int K, int top, int32_t *idx, float *val);
void aqlm_topk_scores_ref(const float *x, const float *a, int64_t n, int d, const float *C,
                          const float *N, int K, int top, int32_t *idx, float *val);

/* N[k] = sum_a C[k,a,:] H C[k,a,:]^T for codewords C [K, og, ig]; H [ig, ig] symmetric with row
 * stride ldh (a block of XTX), NULL = identity (N[k] = |C[k]|^2). Serial. */
void aqlm_codeword_norms(const float *C, int K, int og, int ig, const float *H, int64_t ldh,
                         float *N);

/* ---- k-means initialization (aqlm_kmeans.c) ---- */

/* assign[i] = argmin_k |x[i] - C[k]|^2 (ties: lower k), parallel over points, in batches of
 * points with a progress report after each (the batches do not change the result). RF_OK, or
 * RF_CANCELLED (assign then partly written) when progress asked to stop. */
int aqlm_kmeans_assign(const float *x, int64_t n, int d, const float *C, int K, int32_t *assign,
                       const aqlm_progress *progress);
void aqlm_kmeans_assign_ref(const float *x, int64_t n, int d, const float *C, int K,
                            int32_t *assign);

/* Lloyd's k-means of x [n, d] into K <= n centroids C [K, d]: K distinct random points to start,
 * at most max_iter iterations, early stop when the centroids stop moving (allclose rtol 1e-6,
 * atol 1e-8, tested every 10th iteration as the reference does); empty clusters keep their
 * centroid. *iterations = the iterations run. Iteration it reports into the piece
 * [it, it + 1] / max_iter of progress (a converged fit leaves the rest unreported). RF_OK, or
 * RF_CANCELLED (C then holds the last centroids) when progress asked to stop. */
int aqlm_kmeans_fit(const float *x, int64_t n, int d, int K, int max_iter, rf_rng *rng, float *C,
                    const aqlm_progress *progress, int *iterations);

/* Residual k-means init of q->codes and q->codebooks from Wn = W / scale [out, in], reporting
 * into progress in proportion to aqlm_cost's k-means parts. RF_OK or RF_CANCELLED. */
int aqlm_init_codes(const float *Wn, const rf_aqlm_config *cfg, rf_rng *rng, rf_aqlm_matrix *q,
                    const aqlm_progress *progress);

/* out = Wq - W [out, in] (W NULL: out = Wq), the dequantization fused with the difference that
 * the loss and the beam search start from (aqlm_dequant.c). */
void aqlm_dequantize_minus(const rf_aqlm_matrix *q, const float *W, float *out);

/* ---- the objective and its gradient (aqlm_adam.c) ---- */

/* For every codebook m, the groups (o*Ig + i) that use codeword k, sorted:
 * groups[start[m*(K+1) + k] .. start[m*(K+1) + k + 1]). Rebuilt after every beam pass. */
typedef struct {
    int64_t *start;  /* [M * (K + 1)] */
    int64_t *groups; /* [M * Og * Ig] */
} aqlm_code_index;

void aqlm_code_index_build(const rf_aqlm_matrix *q, aqlm_code_index *ix);
void aqlm_code_index_free(aqlm_code_index *ix);

/* L = tr(dW XTX dW^T) / out with dW = Wq - W (one sgemm, reduced in float64), and
 * dL/dcodebooks [M, K, og, ig] and dL/dscales [Og]. work: 2*out*in floats. */
double aqlm_loss_grad(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                      const aqlm_code_index *ix, float *work, float *g_codebooks, float *g_scales);
/* Everything in float64, gradients returned as double. */
double aqlm_loss_grad_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                          double *g_codebooks, double *g_scales);

/* Adam's settings in the reference's AQEngine.quantize. */
#define AQLM_ADAM_BETA2 0.95
#define AQLM_ADAM_EPS 1e-8

/* torch.optim.Adam(betas=(0, beta2), eps, amsgrad=True), step t >= 1: v and vmax start at 0. */
void aqlm_adam_update(float *p, const float *g, float *v, float *vmax, int64_t n, double lr,
                      double beta2, double eps, int64_t t);

/* ---- beam search over the codes (aqlm_beam.c) ---- */

/* One Gauss-Seidel pass: in-groups in the order g_order [Ig], and inside in-group g_order[j] the
 * codebooks in the order m_order[j*M .. j*M+M). Out-groups run in parallel, each keeping its
 * beam_size (1..32) best code vectors; q->codes gets the best. group_loss [Og] (may be NULL)
 * gets the loss the search tracked for it: sum over its og rows of dW XTX dW^T. Reports progress
 * after each in-group (share j+1 of Ig). RF_OK, or RF_CANCELLED when progress asked to stop: the
 * pass then ends after that in-group, q->codes holding the codes searched so far. */
int aqlm_beam_pass(const float *W, const float *XTX, rf_aqlm_matrix *q, int beam_size,
                   const int64_t *g_order, const int *m_order, double *group_loss,
                   const aqlm_progress *progress);
void aqlm_beam_pass_ref(const float *W, const float *XTX, rf_aqlm_matrix *q, int beam_size,
                        const int64_t *g_order, const int *m_order, double *group_loss);

/* The reference's candidate losses for out-group o whose codes are codes_o [Ig, M] with loss
 * beam_loss (sum over its og rows of dW XTX dW^T): losses[k] = the loss with codes_o[g, m] = k. */
void aqlm_beam_candidate_losses_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                                    int64_t o, const uint16_t *codes_o, double beam_loss, int64_t g,
                                    int m, double *losses);

/* sum over the og rows of out-group o of dW XTX dW^T, dW = Wq(codes_o) - W, in float64. */
double aqlm_group_loss_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q, int64_t o,
                           const uint16_t *codes_o);

/* rf_aqlm_errors' scalar float64 twin. */
void aqlm_errors_ref(const float *W, const float *XTX, const rf_aqlm_matrix *q, double *rel_act_err,
                     double *rel_w_err);

#endif
