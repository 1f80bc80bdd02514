/* rf_mpi.h -- checked MPI calls and the collectives riverforge uses, all on MPI_COMM_WORLD. With
 * work_queue.h the only headers that include mpi.h: the rest of riverforge never sees MPI. A
 * failing MPI call prints rank, file:line and the MPI error string, then aborts the whole job. */
#ifndef RF_MPI_H
#define RF_MPI_H

#include <mpi.h>
#include <stdint.h>

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

/* Collective: flags[i] becomes its maximum over the ranks (a flag set anywhere is set
 * everywhere). */
void rf_mpi_or_flags(unsigned char *flags, int n);

/* Collective: rank 0 receives every rank's bytes, concatenated in rank order (malloc'd; *total
 * bytes); other ranks get NULL. */
void *rf_mpi_gather_bytes(const void *mine, size_t bytes, size_t *total);

/* Point to point: n doubles to rank `to`, or from rank `from` (blocking). */
void rf_mpi_send_doubles(const double *x, int64_t n, int to);
void rf_mpi_recv_doubles(double *x, int64_t n, int from);

/* Collective: every rank returns rank 0's value. */
int rf_mpi_bcast_int(int value);

#endif
