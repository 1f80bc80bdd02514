/* qgp.h -- the QGP generator and its classical baseline (qgp.c; vitgen.h describes the model,
 * docs/vqc.md the derivations): what vitgen.c dispatches to, and what its tests reach into. */
#ifndef RF_QGP_H
#define RF_QGP_H

#include <stdint.h>

#include "kernels/vitgen/gen_common.h"

/* rf_gen_train's contract (vitgen.h) for kind qgp; fills every field of stats except seconds and
 * shared_rel_w_err (vitgen.c measures them). */
int rf_qgp_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx);
double rf_qgp_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
double rf_qgp_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);
/* n = ceil(log2(out * in)), at least 1 */
int rf_qgp_qubits(int64_t out, int64_t in);
/* QGP's loss at params = [read-out MLP (n+2) -> width -> width -> 1, gen_mlp.h layout | angles
 * [layers][n][3]] and, when grad is not NULL, dL/dparams (same layout, overwritten): one training
 * pass of rf_qgp_train, for the tests. */
double rf_qgp_loss_grad(const float *shared, const float *target, int64_t out, int64_t in,
                        int layers, int width, const float *params, float *grad);

#endif
