/* threads.h -- how many OpenMP (and OpenBLAS) threads a rank runs. */
#ifndef RF_THREADS_H
#define RF_THREADS_H

/* Without OMP_NUM_THREADS, shares the node's cores among the ranks on it, within the CPUs this
 * rank may run on; OpenBLAS follows. Warns (rank 0) when a rank has more threads than CPUs to
 * run them: mpirun binds each rank to one core by default, and when OpenBLAS runs kernels older
 * than the CPU (kernels/blas_rate.h). Returns the thread count. */
int rf_choose_threads(int rank, int ranks_on_node);

#endif
