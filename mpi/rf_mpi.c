/* rf_mpi.c -- see rf_mpi.h. */
#include "mpi/rf_mpi.h"

#include <limits.h>
#include <stdio.h>

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
