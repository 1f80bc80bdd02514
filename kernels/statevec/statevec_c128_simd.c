/* statevec_c128_simd.c -- the fast state-vector kernels of statevec.h in complex128 (double amplitudes)
 * for one SIMD path: statevec_impl.h instantiated with the path's suffix (compiled once per path by
 * rf_simd_objects; statevec_c128.c dispatches). */
#include <complex.h>
#include <math.h>
#include <stdint.h>

#include "common/rf_simd_path.h"

#define SV_T rf_c128
#define SV_R double
#define SV_FN(x) RF_SIMD_FN(x##_c128)
#define SV_VC 2     /* complex numbers per 32-byte vector */
#define SV_IDX int64_t /* shuffle index type: as wide as SV_R */
#define SV_IS_C128 1
#include "kernels/statevec/statevec_impl.h"
