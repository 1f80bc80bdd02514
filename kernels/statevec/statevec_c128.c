/* statevec_c128.c -- the state-vector kernels of statevec.h in complex128 (double amplitudes):
 * one instantiation of statevec_impl.h (fast) and statevec_ref_impl.h (_ref twins). */
#include <complex.h>
#include <math.h>
#include <stdint.h>

#define SV_T rf_c128
#define SV_R double
#define SV_FN(x) x##_c128
#define SV_VC 2     /* complex numbers per 32-byte vector */
#define SV_IS_C128 1
#include "kernels/statevec/statevec_impl.h"
#include "kernels/statevec/statevec_ref_impl.h"
