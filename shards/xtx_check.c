/* xtx_check.c -- the positive semi-definiteness test of an XTX (xtx_check.h).
 *
 * Why eps = 1% of the mean diagonal: legitimate statistics are often singular (fewer calibration
 * tokens than in_features, inputs that are always zero), and their float32 rounding alone moves
 * the zero eigenvalues by up to about 6e-8 x n x the mean diagonal (below 1% up to n = 1.6e5), so
 * the test must allow that much; a Cholesky factorization in float64 adds nothing of note. An XTX
 * that is wrong (a sign error, -I, a matrix of another layer's errors) has negative eigenvalues of
 * the order of its diagonal, far beyond 1%. The 1% is also the damping GPTQ adds to its XTX: a
 * negative eigenvalue smaller than that changes the objective by less than the damping would.
 */
#include "shards/xtx_check.h"

#include <lapacke.h>
#include <stdlib.h>

#include "common/rf_error.h"

int rf_xtx_check_psd(const float *xtx, int64_t n) {
    double trace = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = xtx[i * n + i];
        if (d < 0)
            return rf_fail("diagonal entry [%lld, %lld] is %g: X^T X / N has no negative diagonal "
                           "entry", (long long)i, (long long)i, d);
        trace += d;
    }
    if (!(trace > 0))
        return rf_fail("the diagonal is all zero: these statistics weigh every error by zero");
    const double eps = RF_XTX_PSD_DAMP * trace / (double)n;
    double *a = rf_malloc((size_t)(n * n) * sizeof *a);
    for (int64_t j = 0; j < n * n; j++) a[j] = xtx[j];
    for (int64_t i = 0; i < n; i++) a[i * n + i] += eps;
    /* Row-major lower = column-major upper of the same (symmetric) array: no transposed copy. */
    const lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, a, (lapack_int)n);
    free(a);
    rf_check(info >= 0, "dpotrf: argument %d is wrong", (int)-info);
    if (info > 0)
        return rf_fail("not positive semi-definite: the Cholesky factorization of XTX + %g I (%g%% "
                       "of the mean diagonal) fails at column %d", eps, 100 * RF_XTX_PSD_DAMP,
                       (int)info - 1);
    return RF_OK;
}
