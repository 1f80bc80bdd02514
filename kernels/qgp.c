/* qgp.c -- placeholder, being written */
#include "kernels/vitgen_internal.h"
#include "common/rf_error.h"
int rf_qgp_train(const float *shared, const float *target, int64_t out, int64_t in,
                 const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res, rf_gen_stats *stats,
                 rf_progress_fn progress, void *progress_ctx) { rf_fatal("qgp: not yet"); }
double rf_qgp_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg) { return 1e9; }
double rf_qgp_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg) { return 1e6; }
int rf_qgp_qubits(int64_t out, int64_t in) { int n = 1; while (((int64_t)1 << n) < out * in) n++; return n; }
