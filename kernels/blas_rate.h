/* blas_rate.h -- this machine's BLAS: its dense rate on the calling thread count (what `plan`
 * divides predicted FLOP by, and the floor the benchmarks compare kernels against), and whether
 * OpenBLAS picked kernels that fit the CPU. */
#ifndef RF_BLAS_RATE_H
#define RF_BLAS_RATE_H

/* FLOP/s of a square n^3 sgemm (C = A B, row-major float32), the best of reps runs. */
double rf_sgemm_rate(int n, int reps);

/* The kernels OpenBLAS picked at load time ("Prescott", "SkylakeX", ...). */
const char *rf_blas_core(void);
/* OpenBLAS picks its kernels from the CPU's model number and falls back to old ones (Prescott's
 * SSE3) for a model it does not know (a newer CPU, some virtual machines): 4-6x slower products
 * here. When its pick lacks AVX2 but the CPU has it, the OPENBLAS_CORETYPE that fits (SKYLAKEX
 * with AVX-512, HASWELL with AVX2); NULL when its pick fits, and on every CPU but x86. */
const char *rf_blas_core_advice(void);

#endif
