/* blas_rate.c -- see blas_rate.h. */
#include "kernels/blas_rate.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/rf_error.h"
#include "common/rf_log.h" /* rf_now */

double rf_sgemm_rate(int n, int reps) {
    float *a = rf_calloc((size_t)n * n, sizeof *a), *c = rf_calloc((size_t)n * n, sizeof *c);
    for (int64_t k = 0; k < (int64_t)n * n; k++) a[k] = 1e-3f * (float)(k % 97);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const double t0 = rf_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
        const double t = rf_now() - t0;
        if (t < best) best = t;
    }
    free(c);
    free(a);
    return 2.0 * n * n * n / best;
}

const char *rf_blas_core(void) { return openblas_get_corename(); }

/* x86 only: the advice is about OpenBLAS's x86 model-number table, and __builtin_cpu_supports
 * is x86's. */
#if defined(__x86_64__)
const char *rf_blas_core_advice(void) {
    static const char *const before_avx2[] = {"Prescott", "Core2", "Penryn", "Dunnington",
                                              "Nehalem", "Sandybridge", "Atom"};
    const char *core = rf_blas_core();
    int old = 0;
    for (size_t i = 0; i < sizeof before_avx2 / sizeof *before_avx2; i++)
        old |= strcasecmp(core, before_avx2[i]) == 0;
    if (!old || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return NULL;
    return __builtin_cpu_supports("avx512f") ? "SKYLAKEX" : "HASWELL";
}
#else
const char *rf_blas_core_advice(void) { return NULL; }
#endif
