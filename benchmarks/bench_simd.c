/* bench_simd.c -- every SIMD path this CPU runs (common/rf_simd.h), on one core: its multiply-add
 * peak (simd_peak.c) and the AQLM scoring loop (aqlm_topk_scores: k-means assignment and beam
 * search) as a fraction of it, for codeword lengths d = 4..32 and top 1 (k-means, beam 1) and
 * top 8 (beam 8); a one-thread sgemm beside them.
 *
 *   bench_simd [--n N] [--K K] [--reps R]
 *
 * The scoring loop's FLOP are its multiply-adds, 2 d per (vector, codeword) (the N[k] term and
 * the comparisons are overhead it must hide). Without per-vector factors (a = NULL), as k-means
 * calls it. n = 16384 random vectors, K = 256 codewords by default: the codebook stays in L1/L2
 * as in 2x8's k-means and beam search; RiverONE's 1x16 has K = 65536 (--K 65536 --n 2048). Each
 * path is forced in the same run (rf_simd_set), best of R runs per number. Times are CPU time (bench_util.h), not wall time: on
 * a machine shared with other jobs a time slice lost to them would count against the kernel.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "common/rf_simd.h"
#include "kernels/aqlm/aqlm_internal.h"

#include "bench_util.h"

typedef double peak_fn(int64_t iters, float *sink);
peak_fn simd_fma_peak_baseline, simd_fma_peak_avx2, simd_fma_peak_avx512;

int main(int argc, char **argv) {
    int n = 16384, K = 256, reps = 5;
    for (int a = 1; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--n")) n = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--K")) K = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--reps")) reps = atoi(argv[a + 1]);
        else rf_fatal("unknown flag %s (bench_simd [--n N] [--K K] [--reps R])", argv[a]);
    }
    if (argc % 2 == 0 || n < 1 || K < 1 || reps < 1)
        rf_fatal("usage: bench_simd [--n N] [--K K] [--reps R]");
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    enum { DMAX = 32, TOP = 8 };
    const int ds[] = {4, 8, 16, 32};
    rf_rng r;
    rf_rng_init(&r, 1);
    float *x = rf_malloc((size_t)n * DMAX * sizeof *x), *C = rf_malloc((size_t)K * DMAX * sizeof *C);
    float *N = rf_malloc((size_t)K * sizeof *N), *val = rf_malloc((size_t)n * TOP * sizeof *val);
    int32_t *idx = rf_malloc((size_t)n * TOP * sizeof *idx);
    for (int64_t j = 0; j < (int64_t)n * DMAX; j++) x[j] = (float)rf_rng_normal(&r);
    for (int64_t j = 0; j < (int64_t)K * DMAX; j++) C[j] = (float)rf_rng_normal(&r);

    const double sgemm = sgemm_rate_cpu(1024, reps) / 1e9;
    printf("bench_simd: 1 thread (its CPU time), n %d vectors x K %d codewords, best of %d; sgemm "
           "1024^3 %.1f GFLOP/s (OpenBLAS %s)\n", n, K, reps, sgemm, rf_blas_core());
    printf("%-9s %9s", "path", "peak");
    for (size_t i = 0; i < sizeof ds / sizeof *ds; i++) printf("   d=%-2d top1   top8", ds[i]);
    printf("   (GFLOP/s; %% of the path's peak)\n");
    static peak_fn *const peak_of[RF_SIMD_NPATHS] = RF_SIMD_TABLE(simd_fma_peak);
    for (int p = 0; p < RF_SIMD_NPATHS; p++) {
        if (rf_simd_set(p) != RF_OK) {
            printf("%-9s skipped: this CPU or build lacks it\n", rf_simd_name(p));
            continue;
        }
        float sink;
        double t, flop = 0;
        BEST_CPU(t, reps, flop = peak_of[p](20000000, &sink));
        const double peak = flop / t / 1e9;
        printf("%-9s %9.1f", rf_simd_name(p), peak);
        for (size_t i = 0; i < sizeof ds / sizeof *ds; i++) {
            const int d = ds[i];
            aqlm_codeword_norms(C, K, 1, d, NULL, 0, N);
            for (int top = 1; top <= TOP; top += TOP - 1) {
                BEST_CPU(t, reps, aqlm_topk_scores(x, NULL, n, d, C, N, K, top, idx, val));
                const double rate = 2.0 * d * n * K / t / 1e9;
                printf(" %5.1f %3.0f%%", rate, 100 * rate / peak);
            }
        }
        printf("\n");
    }
    free(idx), free(val), free(N), free(C), free(x);
    return 0;
}
