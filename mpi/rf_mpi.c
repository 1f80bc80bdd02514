/* rf_mpi.c -- see rf_mpi.h. */
#include "mpi/rf_mpi.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/rf_log.h"

static void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void rf_mpi_setup(int *rank, int *nranks) {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, rank));
    rf_check_mpi(MPI_Comm_size(MPI_COMM_WORLD, nranks));
    rf_set_fatal_handler(abort_job);
    rf_log_set_rank(*rank, *nranks);
}

int rf_mpi_agree(int rc) {
    int rank, first_failed;
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    int mine = rc == RF_OK ? INT_MAX : rank;
    rf_check_mpi(MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    if (first_failed == INT_MAX) return RF_OK;
    if (rank == first_failed) fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
    return RF_ERR;
}

int rf_mpi_ranks_on_node(void) {
    MPI_Comm node;
    int local = 1;
    rf_check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    rf_check_mpi(MPI_Comm_size(node, &local));
    rf_check_mpi(MPI_Comm_free(&node));
    return local;
}

void rf_mpi_or_flags(unsigned char *flags, int n) {
    rf_check_mpi(MPI_Allreduce(MPI_IN_PLACE, flags, n, MPI_UNSIGNED_CHAR, MPI_MAX, MPI_COMM_WORLD));
}

void *rf_mpi_gather_bytes(const void *mine, size_t bytes, size_t *total) {
    int rank, nranks;
    rf_check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    rf_check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &nranks));
    rf_check(bytes <= INT_MAX, "%zu bytes to gather from one rank", bytes);
    int count = (int)bytes, *counts = NULL, *displs = NULL;
    if (rank == 0) {
        counts = rf_calloc((size_t)nranks, sizeof *counts);
        displs = rf_calloc((size_t)nranks, sizeof *displs);
    }
    rf_check_mpi(MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
    char *all = NULL;
    *total = 0;
    if (rank == 0) {
        long long sum = 0;
        for (int r = 0; r < nranks; r++) {
            displs[r] = (int)sum;
            sum += counts[r];
        }
        rf_check(sum <= INT_MAX, "%lld bytes to gather", sum);
        all = rf_malloc((size_t)sum);
        *total = (size_t)sum;
    }
    rf_check_mpi(MPI_Gatherv(mine, count, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD));
    free(counts);
    free(displs);
    return all;
}

int rf_mpi_bcast_int(int value) {
    rf_check_mpi(MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD));
    return value;
}

/* In pieces of at most 2^30 doubles: MPI counts are int. */
void rf_mpi_send_doubles(const double *x, int64_t n, int to) {
    for (int64_t i = 0; i < n; i += (int64_t)1 << 30) {
        int64_t k = n - i < ((int64_t)1 << 30) ? n - i : (int64_t)1 << 30;
        rf_check_mpi(MPI_Send(x + i, (int)k, MPI_DOUBLE, to, 0, MPI_COMM_WORLD));
    }
}

void rf_mpi_recv_doubles(double *x, int64_t n, int from) {
    for (int64_t i = 0; i < n; i += (int64_t)1 << 30) {
        int64_t k = n - i < ((int64_t)1 << 30) ? n - i : (int64_t)1 << 30;
        rf_check_mpi(MPI_Recv(x + i, (int)k, MPI_DOUBLE, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
}
