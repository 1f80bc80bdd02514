/* blas_rate.h -- the dense rate of this machine's BLAS on the calling thread count: what `plan`
 * divides predicted FLOP by, and the floor the benchmarks compare kernels against. */
#ifndef RF_BLAS_RATE_H
#define RF_BLAS_RATE_H

/* FLOP/s of a square n^3 sgemm (C = A B, row-major float32), the best of reps runs. */
double rf_sgemm_rate(int n, int reps);

#endif
