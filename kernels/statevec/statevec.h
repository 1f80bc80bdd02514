/* statevec.h -- a state-vector simulator of the VQC circuits of QGP and ParamGen (docs/vqc.md),
 * complex64 and complex128, on the CPU (kernels/statevec/statevec.cuh: the GPU twin).
 *
 * Conventions (docs/vqc.md has the derivations):
 *   psi        complex [2^n], amplitude of basis state j; qubit q is bit q of j (qubit 0 = the
 *              least significant bit). Arrays are row-major; int64 indices.
 *   angles     double [L][n][3]: layer l, qubit q, (a, b, c). One layer applies to every qubit
 *              RX(a), then RY(b), then RZ(c), fused into U = RZ(c) RY(b) RX(a) (one 2x2 unitary
 *              per qubit), then the entangler.
 *   entangler  CHAIN: CNOT(0->1), CNOT(1->2), ..., CNOT(n-2->n-1) in that order;
 *              RING: the chain, then CNOT(n-1->0) (n >= 2; for n = 1 both are the identity).
 *              Either is a linear map of the index bits over GF(2) and runs as ONE gather pass,
 *              out of place: out[y] = in[A y].
 *   U[4]       a 2x2 matrix row-major {u00, u01, u10, u11}: new0 = u00*x0 + u01*x1 for the
 *              amplitudes x0 (bit q = 0) and x1 (bit q = 1) of a pair.
 *   entropy    S[k-1], k = 1..n-1: von Neumann entropy (natural log) of the reduced state of
 *              qubits [0, k) (equivalently [k, n)) = -sum s_i ln s_i over the normalized squared
 *              singular values s_i of psi reshaped to [2^(n-k), 2^k].
 *   gradients  adjoint differentiation (Jones & Gacon 2020): for a loss L(p) of the final
 *              probabilities p_j = |psi_j|^2, given dL/dp, all L*n*3 dL/dangles in a few passes per
 *              layer (entangler^-1 on psi and lambda, one fused rotation^-1 pass group that also
 *              accumulates the gradients), whatever the number of angles.
 *
 * Every operation has a precision suffix (_c64: float _Complex / float, _c128: double _Complex /
 * double) and a plain scalar *_ref twin (statevec_ref_impl.h) that tests hold the fast OpenMP one
 * to; the macros without suffix pick the precision from psi's type (C11 _Generic). Both
 * precisions come from one implementation (statevec_impl.h / statevec_ref_impl.h included twice).
 * Big arrays (x, p, dL/dp) are in the state's real type; small ones (angles, <Z>, entropy,
 * gradients) are double. Reductions run in a fixed order: results do not depend on the thread
 * count. Kernels never see MPI, files or the CLI.
 */
#ifndef RF_STATEVEC_H
#define RF_STATEVEC_H

#include <stdint.h>

typedef float _Complex rf_c64;
typedef double _Complex rf_c128;

typedef enum { RF_SV_CHAIN = 0, RF_SV_RING = 1 } rf_sv_entangler;

#define RF_SV_MAX_QUBITS 34 /* 2^34 c128 = 256 GiB: beyond this, split the state over ranks */

/* "chain" / "ring" -> *e and RF_OK; otherwise RF_ERR with a line naming the value, about the
 * setting "statevec.entangler" (rf_error_field). */
int rf_sv_entangler_parse(const char *name, rf_sv_entangler *e);
const char *rf_sv_entangler_name(rf_sv_entangler e);

/* U = RZ(c) RY(b) RX(a) and, when dU is not NULL, its derivatives dU[0] = dU/da, dU[1] = dU/db,
 * dU[2] = dU/dc, all row-major 2x2, computed in double:
 *   RX(a) = [[cos a/2, -i sin a/2], [-i sin a/2, cos a/2]]
 *   RY(b) = [[cos b/2, -sin b/2], [sin b/2, cos b/2]]
 *   RZ(c) = [[e^{-ic/2}, 0], [0, e^{ic/2}]] */
void rf_sv_fused_rotation(double a, double b, double c, double _Complex U[4],
                          double _Complex dU[3][4]);

/* The linear map of the entangler's gather out[y] = in[A y] as its columns cols[k] = A e_k
 * (k < n); inverse != 0 gives the map of the inverse entangler. */
void rf_sv_entangler_map(int n, rf_sv_entangler e, int inverse, uint64_t cols[]);

/* Passes over the state that rf_sv_layer_* makes for n qubits (the first pass takes the low
 * qubits in cache-sized tiles, each further pass a group of higher qubits). */
int rf_sv_layer_passes(int n, int amp_bytes);

#define RF_SV_DECLARE(T, R, S)                                                                     \
    /* Amplitude encoding: psi = x / |x|, zero-padded to 2^n. RF_ERR (one line) when len > 2^n,    \
     * len < 1, x holds a NaN/Inf or is all zero. */                                               \
    int rf_sv_encode_##S(T *psi, int n, const R *x, int64_t len);                                  \
    int rf_sv_encode_ref_##S(T *psi, int n, const R *x, int64_t len);                              \
    /* One 2x2 gate U on qubit q, in place. */                                                     \
    void rf_sv_apply_1q_##S(T *psi, int n, int q, const T U[4]);                                   \
    void rf_sv_apply_1q_ref_##S(T *psi, int n, int q, const T U[4]);                               \
    /* The product of one 2x2 gate per qubit, U[q*4 .. q*4+3] on qubit q, in place, in             \
     * rf_sv_layer_passes(n) passes. */                                                            \
    void rf_sv_apply_layer_##S(T *psi, int n, const T *U);                                         \
    void rf_sv_apply_layer_ref_##S(T *psi, int n, const T *U);                                     \
    /* The fused rotation layer of angles [n][3] (one layer's slice), in place. */                 \
    void rf_sv_rotation_layer_##S(T *psi, int n, const double *angles);                            \
    void rf_sv_rotation_layer_ref_##S(T *psi, int n, const double *angles);                        \
    /* CNOT(c -> t), in place (tests build the entanglers gate by gate from it). */                \
    void rf_sv_cnot_ref_##S(T *psi, int n, int c, int t);                                          \
    /* out = entangler psi (inverse != 0: entangler^-1 psi), out of place (in != out); the fast    \
     * one is one gather pass, the ref copies and applies the CNOTs one by one. */                 \
    void rf_sv_entangle_##S(const T *in, T *out, int n, rf_sv_entangler e, int inverse);           \
    void rf_sv_entangle_ref_##S(const T *in, T *out, int n, rf_sv_entangler e, int inverse);       \
    /* p[j] = |psi_j|^2. */                                                                        \
    void rf_sv_probabilities_##S(const T *psi, int n, R *p);                                       \
    void rf_sv_probabilities_ref_##S(const T *psi, int n, R *p);                                   \
    /* z[q] = <psi|Z_q|psi> (= sum_j p_j (1 - 2 bit_q(j))), accumulated in double. */              \
    void rf_sv_expval_z_##S(const T *psi, int n, double *z);                                       \
    void rf_sv_expval_z_ref_##S(const T *psi, int n, double *z);                                   \
    /* S[k-1] for k = 1..n-1 (see above). The fast one: the smaller side's reduced density         \
     * matrix by one ?herk of the reshaped state, eigenvalues by LAPACK ?heevd (OpenBLAS's);       \
     * the ref builds it with plain loops. */                                                      \
    void rf_sv_entropy_##S(const T *psi, int n, double *S);                                        \
    void rf_sv_entropy_ref_##S(const T *psi, int n, double *S);                                    \
    /* The circuit: L layers of angles [L][n][3] and entangler e, in place on psi; work: 2^n       \
     * amplitudes of scratch. */                                                                   \
    void rf_sv_circuit_##S(T *psi, T *work, int n, int L, const double *angles,                    \
                           rf_sv_entangler e);                                                     \
    void rf_sv_circuit_ref_##S(T *psi, T *work, int n, int L, const double *angles,                \
                               rf_sv_entangler e);                                                 \
    /* Adjoint gradients. On entry psi is the circuit's output state (as rf_sv_circuit left it)    \
     * and dldp [2^n] = dL/dp at p = |psi|^2; on return grad [L][n][3] = dL/dangles and psi is     \
     * the circuit's input again (to rounding). work: 3 * 2^n amplitudes of scratch. */            \
    void rf_sv_adjoint_##S(T *psi, const R *dldp, T *work, int n, int L, const double *angles,     \
                           rf_sv_entangler e, double *grad);                                       \
    void rf_sv_adjoint_ref_##S(T *psi, const R *dldp, T *work, int n, int L,                       \
                               const double *angles, rf_sv_entangler e, double *grad);

RF_SV_DECLARE(rf_c64, float, c64)
RF_SV_DECLARE(rf_c128, double, c128)
#undef RF_SV_DECLARE

/* Precision-generic names: the first argument (the state) picks c64 or c128. */
#define RF_SV_GENERIC(name, psi) _Generic((psi),                                                   \
    rf_c64 *: name##_c64, const rf_c64 *: name##_c64,                                              \
    rf_c128 *: name##_c128, const rf_c128 *: name##_c128)
#define rf_sv_encode(psi, ...) RF_SV_GENERIC(rf_sv_encode, psi)(psi, __VA_ARGS__)
#define rf_sv_encode_ref(psi, ...) RF_SV_GENERIC(rf_sv_encode_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_apply_1q(psi, ...) RF_SV_GENERIC(rf_sv_apply_1q, psi)(psi, __VA_ARGS__)
#define rf_sv_apply_1q_ref(psi, ...) RF_SV_GENERIC(rf_sv_apply_1q_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_apply_layer(psi, ...) RF_SV_GENERIC(rf_sv_apply_layer, psi)(psi, __VA_ARGS__)
#define rf_sv_apply_layer_ref(psi, ...) RF_SV_GENERIC(rf_sv_apply_layer_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_rotation_layer(psi, ...) RF_SV_GENERIC(rf_sv_rotation_layer, psi)(psi, __VA_ARGS__)
#define rf_sv_rotation_layer_ref(psi, ...)                                                         \
    RF_SV_GENERIC(rf_sv_rotation_layer_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_cnot_ref(psi, ...) RF_SV_GENERIC(rf_sv_cnot_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_entangle(in, ...) RF_SV_GENERIC(rf_sv_entangle, in)(in, __VA_ARGS__)
#define rf_sv_entangle_ref(in, ...) RF_SV_GENERIC(rf_sv_entangle_ref, in)(in, __VA_ARGS__)
#define rf_sv_probabilities(psi, ...) RF_SV_GENERIC(rf_sv_probabilities, psi)(psi, __VA_ARGS__)
#define rf_sv_probabilities_ref(psi, ...)                                                          \
    RF_SV_GENERIC(rf_sv_probabilities_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_expval_z(psi, ...) RF_SV_GENERIC(rf_sv_expval_z, psi)(psi, __VA_ARGS__)
#define rf_sv_expval_z_ref(psi, ...) RF_SV_GENERIC(rf_sv_expval_z_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_entropy(psi, ...) RF_SV_GENERIC(rf_sv_entropy, psi)(psi, __VA_ARGS__)
#define rf_sv_entropy_ref(psi, ...) RF_SV_GENERIC(rf_sv_entropy_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_circuit(psi, ...) RF_SV_GENERIC(rf_sv_circuit, psi)(psi, __VA_ARGS__)
#define rf_sv_circuit_ref(psi, ...) RF_SV_GENERIC(rf_sv_circuit_ref, psi)(psi, __VA_ARGS__)
#define rf_sv_adjoint(psi, ...) RF_SV_GENERIC(rf_sv_adjoint, psi)(psi, __VA_ARGS__)
#define rf_sv_adjoint_ref(psi, ...) RF_SV_GENERIC(rf_sv_adjoint_ref, psi)(psi, __VA_ARGS__)

#endif
