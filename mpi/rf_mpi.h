/* rf_mpi.h -- checked MPI calls. The only header (with work_queue.h) that includes mpi.h: the
 * rest of riverforge never sees MPI. A failing MPI call prints rank, file:line and the MPI error
 * string, then aborts the whole job. */
#ifndef RF_MPI_H
#define RF_MPI_H

#include <mpi.h>

#include "common/rf_error.h"

#define rf_check_mpi(call)                                                                         \
    do {                                                                                           \
        int rf_mpi_rc_ = (call);                                                                   \
        if (rf_mpi_rc_ != MPI_SUCCESS) {                                                           \
            char rf_mpi_msg_[MPI_MAX_ERROR_STRING];                                                \
            int rf_mpi_len_ = 0;                                                                   \
            MPI_Error_string(rf_mpi_rc_, rf_mpi_msg_, &rf_mpi_len_);                               \
            rf_fatal("%s failed: %s", #call, rf_mpi_msg_);                                         \
        }                                                                                          \
    } while (0)

/* Installs MPI_Abort as the fatal handler and MPI_ERRORS_RETURN on MPI_COMM_WORLD so that the
 * checks above see the errors. Sets the log's rank. */
void rf_mpi_setup(int *rank, int *nranks);

/* Collective: how many ranks share this rank's node (MPI_COMM_TYPE_SHARED). */
int rf_mpi_ranks_on_node(void);

/* Collective: every rank passes its own status; returns RF_OK when all succeeded. Otherwise the
 * lowest failing rank prints its rf_last_error() line and all ranks return RF_ERR. */
int rf_mpi_agree(int rc);

#endif
