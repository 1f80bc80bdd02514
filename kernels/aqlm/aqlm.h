/* aqlm.h -- AQLM (additive quantization of language models) for one weight matrix, on the CPU.
 *
 * The algorithm follows the reference implementation (docs/aqlm.md):
 *   scales (row-group L2 norms) -> residual k-means init of M codebooks on W/scale ->
 *   epochs of { Adam steps on codebooks+scales against L = tr(dW XTX dW^T)/out ; beam search on codes }
 *   with a relative-tolerance early stop.
 *
 * Shapes (row-major, og = out_group_size, ig = in_group_size, M = num_codebooks, K = 2^nbits):
 *   W          float32 [out, in]
 *   XTX        float32 [in, in]   symmetric PSD; NULL means the identity (plain weight MSE)
 *   codes      uint16  [out/og, in/ig, M]
 *   codebooks  float32 [M, K, og, ig]
 *   scales     float32 [out/og]
 * Dequantization: W[o*og+a, i*ig+b] = scales[o] * sum_m codebooks[m, codes[o,i,m], a, b].
 *
 * Every part has a plain scalar *_ref version (aqlm_ref.c) that tests hold the fast one to.
 * Kernels never see MPI, files or the CLI. Results are deterministic for a given seed and
 * OMP_NUM_THREADS.
 */
#ifndef RF_AQLM_H
#define RF_AQLM_H

#include <stdint.h>

#include "kernels/progress.h"

typedef struct {
    int num_codebooks;        /* M */
    int nbits_per_codebook;   /* K = 2^nbits, 1..16 */
    int in_group_size;        /* ig */
    int out_group_size;       /* og */
    int beam_size;
    int max_epochs;
    int steps_per_epoch;
    double lr;
    double relative_mse_tolerance; /* <= 0: no early stop */
    int init_max_iter;
    int init_max_points_per_centroid; /* 0: k-means on all points */
} rf_aqlm_config;

/* AQLM's main.py defaults (1x16, g8). */
rf_aqlm_config rf_aqlm_config_default(void);
/* A quick configuration (what `riverforge run` without --model uses): 2x8 codebooks,
 * in_group_size 8, 10 epochs x 20 steps, 20 k-means iterations; the rest as the defaults. */
rf_aqlm_config rf_aqlm_config_quick(void);

typedef struct {
    int64_t out_features, in_features;
    int M, K, og, ig;
    uint16_t *codes;  /* [out/og, in/ig, M] */
    float *codebooks; /* [M, K, og, ig] */
    float *scales;    /* [out/og] */
} rf_aqlm_matrix;

typedef struct {
    double rel_act_err;     /* tr(dW XTX dW^T) / tr(W XTX W^T), on the fp16-rounded result */
    double rel_w_err;       /* ||dW||_F / ||W||_F, on the fp16-rounded result */
    double bits_per_weight;
    double seconds;
    int epochs;             /* epochs run (beam-search passes) */
    int adam_steps;
} rf_aqlm_stats;

/* RF_ERR when cfg does not fit the shape -- e.g. in_group_size that does not divide in_features,
 * K larger than the number of groups k-means can draw from -- with one line that starts with the
 * setting as rf_aqlm_config names it ("in_group_size 7 does not divide in_features 512");
 * rf_error_field() gives its id, "aqlm.<field>". */
int rf_aqlm_check_config(const rf_aqlm_config *cfg, int64_t out_features, int64_t in_features);

void rf_aqlm_alloc(rf_aqlm_matrix *q, int64_t out_features, int64_t in_features,
                   const rf_aqlm_config *cfg);
void rf_aqlm_free(rf_aqlm_matrix *q);

/* Quantizes W. Allocates q (rf_aqlm_alloc; release with rf_aqlm_free). On return codebooks and
 * scales hold fp16-representable values (what the checkpoint stores) and stats describe that
 * rounded result. cfg must pass rf_aqlm_check_config.
 *
 * progress (may be NULL) hears, from the calling thread, the fraction of the predicted work
 * (rf_aqlm_predicted_flops) done, rising to exactly 1.0 at the end (also after an early stop):
 * inside the k-means init (every iteration, every batch of the final assignment), after every
 * Adam step and after every in-group of a beam pass. The loss the early-stop rule sees, the
 * objective L after e epochs, comes as {epoch = e, loss = L} for e = 0 (after the init) up to
 * the epochs run. A nonzero answer stops the run at the next boundary (a k-means iteration or
 * batch, an Adam step, an in-group of a beam pass); at the final 1.0 the result is complete and
 * the answer changes nothing.
 *
 * Returns RF_OK; RF_ERR with one line (q freed, stats untouched) when an out-group of W holds NaN
 * or has an L2 norm beyond float16's range (its scale could not be stored); or RF_CANCELLED (q
 * freed, stats untouched) when the progress callback asked to stop. */
int rf_aqlm_quantize(const float *W, const float *XTX, int64_t out_features, int64_t in_features,
                      const rf_aqlm_config *cfg, uint64_t seed, rf_aqlm_matrix *q,
                      rf_aqlm_stats *stats, rf_progress_fn progress, void *progress_ctx);

/* W_hat [out, in] from q. */
void rf_aqlm_dequantize(const rf_aqlm_matrix *q, float *W_hat);
void rf_aqlm_dequantize_ref(const rf_aqlm_matrix *q, float *W_hat);

/* rel_act_err and rel_w_err of q against W (XTX NULL = identity), accumulated in float64. A
 * ratio whose denominator, tr(W XTX W^T) or |W|_F^2, is <= 0 is undefined and comes back NaN
 * (W zero, or in the null space of XTX, or an XTX that is not positive semi-definite). */
void rf_aqlm_errors(const float *W, const float *XTX, const rf_aqlm_matrix *q,
                    double *rel_act_err, double *rel_w_err);

/* M*nbits/(og*ig) + M*K*og*ig*16/(out*in) + 16*(out/og)/(out*in). */
double rf_aqlm_bits_per_weight(int64_t out_features, int64_t in_features,
                               const rf_aqlm_config *cfg);

/* Predicted floating-point work of rf_aqlm_quantize (FLOP), for the task cost model; its
 * progress reports are shares of it. */
double rf_aqlm_predicted_flops(int64_t out_features, int64_t in_features,
                               const rf_aqlm_config *cfg);

/* The same work split by the loop that does it, since they run at different rates: the scoring
 * loop of the k-means initialization (nearest codeword: top 1), the scoring loop of the beam
 * passes (top beam_size), the losses with their gradients (an Adam step each, or the loss an
 * epoch reports; counted as their [out, in] x [in, in] product), and the other BLAS products (the
 * product that starts each beam pass, the errors). kmeans + beam + steps + blas =
 * rf_aqlm_predicted_flops. */
typedef struct {
    double kmeans, beam, steps, blas;
} rf_aqlm_work;
rf_aqlm_work rf_aqlm_predicted_work(int64_t out_features, int64_t in_features,
                                    const rf_aqlm_config *cfg);

/* FLOP/s of the scoring loop for cfg's codewords (og x ig values, 2^nbits of them) on this
 * process's SIMD path and OpenMP threads, measured on random data for about `seconds` each:
 * *kmeans as the k-means assignment runs it (top 1), *beam in the beam search's blocks of
 * vectors (top beam_size). What `plan` prices rf_aqlm_work's two scoring parts at. */
void rf_aqlm_scoring_rates(const rf_aqlm_config *cfg, double seconds, double *kmeans,
                           double *beam);

/* FLOP/s of rf_aqlm_quantize's Adam steps for cfg: the loss with its gradient (counted as its
 * [out, in] x [in, in] product; the dequantization and the codebook gradient's gather come with
 * it) and the update of codebooks and scales, timed for about `seconds` on a random matrix of
 * about [out_features, in_features] (whole groups, at least one) on this process's OpenMP
 * threads. What `plan` prices rf_aqlm_work's steps at: below the rate of a square sgemm. */
double rf_aqlm_step_rate(const rf_aqlm_config *cfg, int64_t out_features, int64_t in_features,
                         double seconds);

#endif
