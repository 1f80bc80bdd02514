/* statevec_c64.c -- the state-vector kernels of statevec.h in complex64 (float amplitudes):
 * one instantiation of statevec_impl.h (fast) and statevec_ref_impl.h (_ref twins). */
#include <complex.h>
#include <math.h>
#include <stdint.h>

#define SV_T rf_c64
#define SV_R float
#define SV_FN(x) x##_c64
#define SV_VC 4     /* complex numbers per 32-byte vector */
#define SV_IS_C128 0
#include "kernels/statevec/statevec_impl.h"
#include "kernels/statevec/statevec_ref_impl.h"
