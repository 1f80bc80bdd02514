/* xtx_check.h -- whether an XTX can be calibration statistics: X^T X / N is positive
 * semi-definite, and a matrix that is not would make the objective tr(dW XTX dW^T) reward errors
 * and leave the relative error undefined. No files: task_exec.c names the file and the matrix.
 *
 * Shape: XTX float32 [n, n], symmetric and finite (rf_xtx_read has checked both).
 */
#ifndef RF_XTX_CHECK_H
#define RF_XTX_CHECK_H

#include <stdint.h>

/* The share of the mean diagonal added to the diagonal before the Cholesky test (xtx_check.c
 * says why 1%). */
#define RF_XTX_PSD_DAMP 0.01

/* RF_OK, or RF_ERR with one line saying what fails: a negative diagonal entry, an all-zero
 * diagonal, or a Cholesky factorization (LAPACK dpotrf, float64) of XTX + eps I that fails,
 * eps = RF_XTX_PSD_DAMP x the mean diagonal. Needs n*n doubles for the test. */
int rf_xtx_check_psd(const float *xtx, int64_t n);

#endif
