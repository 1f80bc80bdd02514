/* gen_mlp_simd.c -- tanh of every element in place for the read-out MLP's forward (gen_mlp.c),
 * for one SIMD path (compiled once per path by rf_simd_objects): gen_simd.h's tanh_v over
 * VL-float vectors (libm's tanhf is a scalar call per element and was most of the forward's
 * time). Elementwise: the lane count does not change a result, FMA does (x86's baseline). */
#include <string.h>

#include "kernels/vitgen/gen_simd.h"

void RF_SIMD_FN(rf_mlp_tanh)(float *z, int64_t n) {
    const int64_t nv = n / VL;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < nv; k++) {
        vf v;
        memcpy(&v, z + k * VL, sizeof v);
        tanh_v(&v);
        memcpy(z + k * VL, &v, sizeof v);
    }
    if (n % VL) { /* the tail, zero-padded */
        vf v = {0};
        memcpy(&v, z + nv * VL, (size_t)(n % VL) * sizeof *z);
        tanh_v(&v);
        memcpy(z + nv * VL, &v, (size_t)(n % VL) * sizeof *z);
    }
}

