/* vitgen.h -- generators for shared ViT blocks (docs/vqc.md): the public API, dispatching to
 * qgp.c and paramgen.c.
 *
 * Block sharing (MiniViT): block B drops its matrices and reuses block A's. For one matrix of B, a
 * generator maps A's matrix S (the shared one) to an approximation G of B's original W; G is
 * materialized as a plain float32 matrix, so inference needs no circuit. All matrices [out, in]
 * row-major float32, N = out * in entries, entry j = o * in + i.
 *
 *   none      G = S: plain sharing, nothing is trained.
 *   qgp       the paper's design. psi0 = amplitude encoding of S on n = ceil(log2 N) qubits; a
 *             circuit of L layers (fused RX RY RZ per qubit, then the CNOT chain) with angles of
 *             its own; p = |psi|^2. Each entry has features f_j = (p_j 2^n, the n bits of j as
 *             +1 when set and -1 when clear, S_j / s) with s = rms(S), and a read-out MLP F -> H -> H -> 1 (tanh) shared
 *             by all entries gives G_j = s (S_j / s + mlp(f_j)). The output layer starts at zero,
 *             so training starts from plain sharing.
 *   paramgen  the public RiverONE code's stage 4. 12 qubits amplitude-encode fixed random
 *             features (drawn from the seed); 3 layers of RX RY RZ + CNOT ring, with optional
 *             noise while training (per qubit per layer, with probability p, an X, Y or Z);
 *             <Z_q> -> MLP 12 -> 256 -> 256 -> (out + in) r -> U [out, r], V [in, r];
 *             G = S + s U V^T / sqrt(r). The U half of the output layer starts at zero (all
 *             zero would be a saddle of U V^T where every gradient vanishes), so training
 *             starts from plain sharing.
 *
 * Classical baseline (the adapter the paper compares against), trained the same way in the same
 * task: qgp's read-out without the p_j feature, its hidden width raised until it has at least as
 * many parameters as qgp (angles included); paramgen's MLP fed a learned 12-vector instead of
 * <Z>. For none there is no baseline: baseline_rel_w_err = shared_rel_w_err.
 *
 * Training: Adam on L = ||G - W||_F^2 / ||W||_F^2 over all entries (full batch) for `steps`
 * steps; the best iterate is kept, so rel_w_err <= shared_rel_w_err always. Deterministic for a
 * given seed, whatever the thread count (sums run over fixed chunks in a fixed order), on one CPU
 * type (the read-out kernel picks AVX-512, AVX2 or plain code). Kernels never see MPI, files or
 * the CLI.
 */
#ifndef RF_VITGEN_H
#define RF_VITGEN_H

#include <stdint.h>

#include "kernels/vitgen/gen_common.h" /* rf_gen_config, rf_gen_result, rf_gen_stats, rf_gen_free */

/* The defaults of a kind (see rf_gen_config's comments). */
rf_gen_config rf_gen_config_default(rf_gen_kind kind);
/* "none" | "qgp" | "paramgen" -> *kind; otherwise RF_ERR with one line naming the value, about
 * the setting "gen.kind" (rf_error_field). */
int rf_gen_kind_parse(const char *name, rf_gen_kind *kind);
const char *rf_gen_kind_name(rf_gen_kind kind);
/* RF_ERR with one line naming the offending setting for this matrix shape (e.g. qgp needs
 * n <= 30 qubits, steps >= 0, rank >= 1) by its rf_gen_config field; rf_error_field() gives its
 * id, "gen.<field>" ("gen.steps"). */
int rf_gen_check_config(const rf_gen_config *cfg, int64_t out, int64_t in);
/* Predicted FLOP of rf_gen_train (generator and baseline): the run's cost model orders tasks. */
double rf_gen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
/* Bytes rf_gen_train allocates at most (state vectors, activations, Adam moments). */
double rf_gen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);

/* Trains the generator (and the baseline) and fills res (free with rf_gen_free) and stats.
 * progress is called between steps with the fraction done; when it returns nonzero the training
 * stops, res holds nothing and the result is RF_CANCELLED. RF_ERR (one line) when S or W
 * holds a NaN/Inf or S is all zero (nothing to encode). Otherwise RF_OK. */
int rf_gen_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx);

#endif
