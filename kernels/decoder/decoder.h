/* decoder.h -- the forward pass of a Qwen3 / Qwen2 / Llama decoder on the CPU (BLAS, OpenMP),
 * for perplexity (`riverforge eval`) and calibration statistics (`riverforge calibrate`).
 *
 * Shapes (row-major float32; N = nseq * T rows, sequence s owns rows [s*T, (s+1)*T)):
 *   hidden states x        [N, H]                 H  = hidden
 *   q_proj / k_proj / v_proj [nh*hd, H] / [nkv*hd, H] / [nkv*hd, H] (+ optional biases)
 *   q_norm / k_norm        [hd] (Qwen3 only; NULL otherwise), applied per head before RoPE
 *   o_proj                 [H, nh*hd] (+ optional bias)
 *   gate_proj / up_proj    [I, H];  down_proj [H, I]
 * A layer is   x += o_proj(attn(rope(norm_q(q)), rope(norm_k(k)), v))   on rmsnorm(x, input_norm)
 *   then       x += down(silu(gate(h)) * up(h))                          on h = rmsnorm(x, post_norm)
 * with causal grouped-query attention (head i reads kv head i / (nh / nkv)), scale hd^-1/2.
 * The head is rmsnorm(x, final_norm) @ lm_head^T; the NLL of position t predicts token t+1.
 *
 * The fast path batches every projection of all N rows into one sgemm; the `_ref` twins are plain
 * loops for small shapes (tests compare them). No files, no MPI: weights come in as float32. */
#ifndef RF_DECODER_H
#define RF_DECODER_H

#include <stdint.h>

typedef enum { RF_ROPE_DEFAULT = 0, RF_ROPE_LINEAR, RF_ROPE_LLAMA3 } rf_rope_kind;

typedef struct {
    int hidden, intermediate, heads, kv_heads, head_dim, vocab;
    double rms_eps;
    double rope_theta;
    rf_rope_kind rope_kind;
    /* rope_scaling: factor (linear, llama3); low/high_freq_factor and the original context
     * length (llama3) */
    double rope_factor, rope_low_freq, rope_high_freq, rope_orig_ctx;
} rf_dec_config;

typedef struct {
    const float *input_norm, *post_norm;         /* [H] */
    const float *wq, *wk, *wv, *wo;
    const float *bq, *bk, *bv, *bo;              /* NULL when the model has none */
    const float *q_norm, *k_norm;                /* [hd] or NULL */
    const float *wg, *wu, *wd;
} rf_dec_layer;

/* The four distinct inputs of a layer's matrices, as calibration collects them. */
typedef enum { RF_TAP_QKV = 0, RF_TAP_O, RF_TAP_GATE_UP, RF_TAP_DOWN, RF_TAP_COUNT } rf_dec_tap;
/* Called (from the calling thread) with the rows X [rows, cols] that enter the tap's matrices. */
typedef void (*rf_dec_tap_fn)(void *ctx, rf_dec_tap tap, const float *x, int64_t rows, int cols);

/* RoPE's inverse frequencies [hd/2] as Hugging Face computes them for the config (default,
 * "linear" or "llama3" scaling). */
void rf_dec_inv_freq(const rf_dec_config *c, double *inv_freq);

/* Scratch of the fast path for nseq sequences of T tokens (rf_dec_work_free releases it). */
typedef struct rf_dec_work rf_dec_work;
rf_dec_work *rf_dec_work_new(const rf_dec_config *c, int nseq, int T);
/* The bytes rf_dec_work_new allocates, and those of one layer's float32 weights (biases counted
 * whether the model has them or not): for memory predictions. */
double rf_dec_work_bytes(const rf_dec_config *c, int nseq, int T);
double rf_dec_layer_bytes(const rf_dec_config *c);
void rf_dec_work_free(rf_dec_work *w);

/* One decoder layer on x [nseq*T, H] in place. tap may be NULL. */
void rf_dec_layer_forward(const rf_dec_config *c, const rf_dec_layer *l, rf_dec_work *w, float *x,
                          int nseq, int T, rf_dec_tap_fn tap, void *tap_ctx);
void rf_dec_layer_forward_ref(const rf_dec_config *c, const rf_dec_layer *l, float *x, int nseq,
                              int T, rf_dec_tap_fn tap, void *tap_ctx);

/* The head on one sequence x [T, H]: nll[t] = -log softmax(logits[t])[tokens[t+1]] for
 * t < T-1 (double); logits [T, V] written when not NULL. x is left unchanged. */
void rf_dec_head(const rf_dec_config *c, const float *final_norm, const float *lm_head,
                 const float *x, int T, const int32_t *tokens, double *nll, float *logits);
void rf_dec_head_ref(const rf_dec_config *c, const float *final_norm, const float *lm_head,
                     const float *x, int T, const int32_t *tokens, double *nll, float *logits);

/* y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, rows of n; y may be x. Shared by both paths
 * (it is one loop either way). */
void rf_dec_rmsnorm(const float *x, const float *w, float *y, int64_t rows, int n, double eps);

#endif
