/* statevec_dispatch.h -- the public fast kernels of statevec.h for ONE precision (SV_T, SV_R,
 * SV_FN as in statevec_impl.h), each a call of its twin for the process's SIMD path
 * (common/rf_simd.h): statevec_impl.h is compiled once per path and precision
 * (statevec_c64_simd.c, statevec_c128_simd.c), its functions named f_baseline, f_avx2, f_avx512.
 * Included by statevec_c64.c and statevec_c128.c before the _ref twins, for which it also names
 * the types T and R. No include guard on purpose. */
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_simd.h"
#include "kernels/statevec/statevec_internal.h"

typedef SV_R R;
typedef SV_T T;

#define SV_CAT_(a, b) a##b
#define SV_CAT(a, b) SV_CAT_(a, b)
/* The twin of public function f (its type is statevec.h's) for this process's path. */
#define SV_PATH(f)                                                                                 \
    ({                                                                                             \
        extern __typeof__(f) SV_CAT(f, _baseline), SV_CAT(f, _avx2), SV_CAT(f, _avx512);          \
        static __typeof__(f) *const table_[RF_SIMD_NPATHS] = RF_SIMD_TABLE(f);                     \
        table_[rf_simd_path()];                                                                    \
    })

int SV_FN(rf_sv_encode)(T *psi, int n, const R *x, int64_t len) {
    return SV_PATH(SV_FN(rf_sv_encode))(psi, n, x, len);
}
void SV_FN(rf_sv_apply_1q)(T *psi, int n, int q, const T U[4]) {
    SV_PATH(SV_FN(rf_sv_apply_1q))(psi, n, q, U);
}
void SV_FN(rf_sv_apply_layer)(T *psi, int n, const T *U) {
    SV_PATH(SV_FN(rf_sv_apply_layer))(psi, n, U);
}
void SV_FN(rf_sv_rotation_layer)(T *psi, int n, const double *angles) {
    SV_PATH(SV_FN(rf_sv_rotation_layer))(psi, n, angles);
}
void SV_FN(rf_sv_entangle)(const T *in, T *out, int n, rf_sv_entangler e, int inverse) {
    SV_PATH(SV_FN(rf_sv_entangle))(in, out, n, e, inverse);
}
void SV_FN(rf_sv_probabilities)(const T *psi, int n, R *p) {
    SV_PATH(SV_FN(rf_sv_probabilities))(psi, n, p);
}
void SV_FN(rf_sv_expval_z)(const T *psi, int n, double *z) {
    SV_PATH(SV_FN(rf_sv_expval_z))(psi, n, z);
}
void SV_FN(rf_sv_entropy)(const T *psi, int n, double *S) {
    SV_PATH(SV_FN(rf_sv_entropy))(psi, n, S);
}
void SV_FN(rf_sv_circuit)(T *psi, T *work, int n, int L, const double *angles, rf_sv_entangler e) {
    SV_PATH(SV_FN(rf_sv_circuit))(psi, work, n, L, angles, e);
}
void SV_FN(rf_sv_adjoint)(T *psi, const R *dldp, T *work, int n, int L, const double *angles,
                          rf_sv_entangler e, double *grad) {
    SV_PATH(SV_FN(rf_sv_adjoint))(psi, dldp, work, n, L, angles, e, grad);
}
