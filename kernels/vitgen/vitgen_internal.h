/* vitgen_internal.h -- what vitgen.c's dispatch shares with the generators (qgp.c, paramgen.c).
 * Each train function has rf_gen_train's contract (vitgen.h) for its kind, and fills every field
 * of stats except seconds, shared_rel_w_err (vitgen.c measures them). */
#ifndef RF_VITGEN_INTERNAL_H
#define RF_VITGEN_INTERNAL_H

#include "kernels/vitgen/vitgen.h"

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

int rf_paramgen_train(const float *shared, const float *target, int64_t out, int64_t in,
                      const rf_gen_config *cfg, uint64_t seed, rf_gen_result *res,
                      rf_gen_stats *stats, rf_progress_fn progress, void *progress_ctx);
double rf_paramgen_predicted_flops(int64_t out, int64_t in, const rf_gen_config *cfg);
double rf_paramgen_predicted_bytes(int64_t out, int64_t in, const rf_gen_config *cfg);

/* ParamGen's pieces (paramgen.c), exposed for its tests.
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

/* sum_j (a_j - b_j)^2 (b NULL: sum_j a_j^2) in double, over fixed blocks added in order: the
 * same bits for any thread count (NaN/Inf when an entry is). */
double rf_gen_sum_sq_diff(const float *a, const float *b, int64_t n);

/* Appends a copy of data (dims[0..ndim-1] floats) as res->tensors[res->ntensors++]. */
void rf_gen_add_tensor(rf_gen_result *res, const char *name, int ndim, const int64_t *dims,
                       const float *data);

#endif
