/* paramgen.h -- ParamGen and its classical baseline (paramgen.c; vitgen.h describes the model,
 * docs/vqc.md the derivations): what vitgen.c dispatches to, and the pieces its tests reach into.
 */
#ifndef RF_PARAMGEN_H
#define RF_PARAMGEN_H

#include <stdint.h>

#include "kernels/vitgen/gen_common.h"

/* rf_gen_train's contract (vitgen.h) for kind paramgen; fills every field of stats except seconds
 * and shared_rel_w_err (vitgen.c measures them). */
int rf_paramgen_train(const float *shared, const float *target, int64_t out, int64_t in,
                      const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res,
                      rf_gen_stats *stats, rf_progress_fn progress, void *progress_ctx);
double rf_paramgen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
double rf_paramgen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);

/* The pieces, for the tests.
 * rf_paramgen_circuit: z [q] = <Z_q> after L layers (angles [L][q][3]) on psi0 [2^q]; noise
 * [L][q] (0 none, 1 X, 2 Y, 3 Z, applied between a layer's rotations and its CNOT ring) or NULL;
 * when dz is not NULL, dz [L*q*3][q] = dz/dangles by parameter shift.
 * rf_paramgen_new: the generator (quantum != 0) or the baseline of one matrix (cfg passes
 * rf_gen_check_config), features and initialization drawn from seed. Its parameters theta
 * [rf_paramgen_ntheta] = [MLP params | angles [L][q][3] (generator) or the MLP's input [q]];
 * rf_paramgen_init writes the initial theta. rf_paramgen_loss returns ||G - W||^2 / ||W||^2 at
 * theta (noise as above; the baseline ignores it) and, when grad is not NULL, grad = dL/dtheta. */
typedef struct rf_paramgen rf_paramgen;
void rf_paramgen_circuit(const double _Complex *psi0, int q, int L, const double *angles,
                         const unsigned char *noise, double *z, double *dz);
rf_paramgen *rf_paramgen_new(const float *shared, const float *target, int64_t out, int64_t in,
                             const rf_gen_config *cfg, uint64_t seed, int quantum);
int64_t rf_paramgen_ntheta(const rf_paramgen *p);
void rf_paramgen_init(const rf_paramgen *p, float *theta);
double rf_paramgen_loss(rf_paramgen *p, const float *theta, const unsigned char *noise,
                        float *grad);
void rf_paramgen_free(rf_paramgen *p);

#endif
