/* statevec_c128.c -- the state-vector kernels of statevec.h in complex128 (double amplitudes): the
 * public ones dispatched to the SIMD path of the process (statevec_dispatch.h over
 * statevec_c128_simd.c), and the _ref twins (statevec_ref_impl.h). */
#include <complex.h>
#include <math.h>
#include <stdint.h>

#define SV_T rf_c128
#define SV_R double
#define SV_FN(x) x##_c128
#include "kernels/statevec/statevec_dispatch.h"
#include "kernels/statevec/statevec_ref_impl.h"
