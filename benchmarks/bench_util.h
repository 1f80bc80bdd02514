/* bench_util.h -- what the benchmarks share: best-of-N timing and this machine's floors (the rate
 * of a square sgemm, rf_sgemm_rate of kernels/blas_rate.h; the bandwidth of a parallel memcpy),
 * measured in the same run as the kernels they bound. */
#ifndef RF_BENCH_UTIL_H
#define RF_BENCH_UTIL_H

#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_log.h" /* rf_now */
#include "kernels/blas_rate.h"

/* var = the best wall time of `reps` runs of stmt. */
#define BEST(var, reps, stmt)                                                                      \
    do {                                                                                           \
        var = 1e30;                                                                                \
        for (int r_ = 0; r_ < (reps); r_++) {                                                      \
            const double t0_ = rf_now();                                                           \
            stmt;                                                                                  \
            const double t_ = rf_now() - t0_;                                                      \
            if (t_ < var) var = t_;                                                                \
        }                                                                                          \
    } while (0)

/* memcpy split over the OpenMP threads: the bandwidth floor of a pass over a big array. */
static inline void par_memcpy(void *dst, const void *src, size_t bytes) {
#pragma omp parallel
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        const size_t lo = bytes * t / T, hi = bytes * (t + 1) / T;
        memcpy((char *)dst + lo, (const char *)src + lo, hi - lo);
    }
}

/* Bytes moved per second (read + write) by par_memcpy of `bytes`, best of reps. */
static inline double copy_rate(size_t bytes, int reps) {
    char *a = rf_malloc(bytes), *b = rf_malloc(bytes);
    memset(a, 1, bytes), memset(b, 2, bytes);
    double t;
    BEST(t, reps, par_memcpy(b, a, bytes));
    free(b), free(a);
    return 2.0 * (double)bytes / t;
}

#endif
