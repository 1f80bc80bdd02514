/* threads.c -- see threads.h. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "mpi/threads.h"

#include <cblas.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/rf_log.h"
#include "kernels/blas_rate.h"

int rf_choose_threads(int rank, int ranks_on_node) {
    cpu_set_t mask;
    int allowed = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : 1;
    if (!getenv("OMP_NUM_THREADS")) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int threads = (int)(cores / ranks_on_node > 0 ? cores / ranks_on_node : 1);
        omp_set_num_threads(threads < allowed ? threads : allowed);
    }
    int threads = omp_get_max_threads();
    if (threads > allowed && rank == 0)
        rf_warn("%d threads per rank but each rank is bound to %d CPU(s): use mpirun --bind-to none "
                "or --map-by slot:PE=%d (srun: --cpus-per-task=%d)", threads, allowed, threads, threads);
    openblas_set_num_threads(threads);
    const char *advice = rf_blas_core_advice();
    if (advice && rank == 0)
        rf_warn("OpenBLAS did not recognize this CPU and runs its %s kernels, several times slower "
                "than the CPU allows: set OPENBLAS_CORETYPE=%s", rf_blas_core(), advice);
    return threads;
}
