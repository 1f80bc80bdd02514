/* bench_util.h -- what the benchmarks share: best-of-N timing and this machine's floors (the rate
 * of a square sgemm, rf_sgemm_rate of kernels/blas_rate.h; the bandwidth of a parallel memcpy),
 * measured in the same run as the kernels they bound. */
#ifndef RF_BENCH_UTIL_H
#define RF_BENCH_UTIL_H

#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* A part's wall time and its CPU time per thread (the process's CPU seconds / OpenMP threads):
 * on a machine shared with other jobs the wall time counts the time slices they took, and the
 * CPU time per thread estimates what the part takes with its cores to itself (threads wait
 * passively: OMP_WAIT_POLICY=passive, or they would count their spinning). */
typedef struct {
    double wall, cpu;
} bench_time;

static inline double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static inline bench_time bench_start(void) { return (bench_time){rf_now(), cpu_now()}; }
/* The time since t0 (from bench_start), divided by n (parts timed together). */
static inline bench_time bench_since(bench_time t0, int n) {
    return (bench_time){(rf_now() - t0.wall) / n, (cpu_now() - t0.cpu) / omp_get_max_threads() / n};
}

/* var = the best CPU time per thread (bench_time) of `reps` runs of stmt. */
#define BEST_CPU(var, reps, stmt)                                                                  \
    do {                                                                                           \
        var = 1e30;                                                                                \
        for (int r_ = 0; r_ < (reps); r_++) {                                                      \
            const bench_time t0_ = bench_start();                                                  \
            stmt;                                                                                  \
            const double t_ = bench_since(t0_, 1).cpu;                                             \
            if (t_ < var) var = t_;                                                                \
        }                                                                                          \
    } while (0)

/* rf_sgemm_rate (FLOP/s of an n^3 sgemm, best of reps) by CPU time per thread. */
static inline double sgemm_rate_cpu(int n, int reps) {
    float *A = rf_malloc(sizeof(float) * n * n), *B = rf_malloc(sizeof(float) * n * n);
    float *C = rf_malloc(sizeof(float) * n * n);
    for (int64_t j = 0; j < (int64_t)n * n; j++) A[j] = (float)(j % 7) - 3, B[j] = (float)(j % 5);
    double t;
    BEST_CPU(t, reps,
             cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n,
                         0.0f, C, n));
    free(C), free(B), free(A);
    return 2.0 * n * n * (double)n / t;
}

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
