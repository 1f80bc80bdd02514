/* paramgen.c -- placeholder, being written */
#include "kernels/vitgen_internal.h"
#include "common/rf_error.h"
int rf_paramgen_train(const float *shared, const float *target, int64_t out, int64_t in,
                      const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res,
                      rf_gen_stats *stats, rf_progress_fn progress, void *progress_ctx) { rf_fatal("paramgen: not yet"); }
double rf_paramgen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg) { return 1e9; }
double rf_paramgen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg) { return 1e6; }
