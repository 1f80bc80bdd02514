/* vitgen_internal.h -- what vitgen.c's dispatch shares with the generators (qgp.c, paramgen.c).
 * Each train function has rf_gen_train's contract (vitgen.h) for its kind, and fills every field
 * of stats except seconds, shared_rel_w_err (vitgen.c measures them). */
#ifndef RF_VITGEN_INTERNAL_H
#define RF_VITGEN_INTERNAL_H

#include "kernels/vitgen.h"

int rf_qgp_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx);
double rf_qgp_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
double rf_qgp_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);
/* n = ceil(log2(out * in)), at least 1 */
int rf_qgp_qubits(int64_t out, int64_t in);

int rf_paramgen_train(const float *shared, const float *target, int64_t out, int64_t in,
                      const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res,
                      rf_gen_stats *stats, rf_progress_fn progress, void *progress_ctx);
double rf_paramgen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
double rf_paramgen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);

/* Appends a copy of data (dims[0..ndim-1] floats) as res->tensors[res->ntensors++]. */
void rf_gen_add_tensor(rf_gen_result *res, const char *name, int ndim, const int64_t *dims,
                       const float *data);

#endif
