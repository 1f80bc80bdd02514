/* statevec.c -- the precision-free parts of the state-vector kernels: entangler names and index
 * maps, the fused rotation and its derivatives, the pass plan, and the entanglement entropy
 * (always in double: zherk + zheevd). The kernels themselves are statevec_impl.h, compiled once
 * per precision by statevec_c64.c and statevec_c128.c. */
#include <cblas.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "kernels/statevec/statevec_internal.h"

int rf_sv_entangler_parse(const char *name, rf_sv_entangler *e) {
    if (name && !strcmp(name, "chain")) return *e = RF_SV_CHAIN, RF_OK;
    if (name && !strcmp(name, "ring")) return *e = RF_SV_RING, RF_OK;
    return rf_fail_field("statevec.entangler", "entangler '%s': expected chain or ring",
                         name ? name : "");
}

const char *rf_sv_entangler_name(rf_sv_entangler e) { return e == RF_SV_RING ? "ring" : "chain"; }

void rf_sv_fused_rotation(double a, double b, double c, double _Complex U[4],
                          double _Complex dU[3][4]) {
    const double ca = cos(a / 2), sa = sin(a / 2), cb = cos(b / 2), sb = sin(b / 2);
    const double _Complex em = cexp(-I * c / 2), ep = cexp(I * c / 2);
    const double _Complex RX[4] = {ca, -I * sa, -I * sa, ca}, RY[4] = {cb, -sb, sb, cb};
    const double _Complex dRX[4] = {-sa / 2, -I * ca / 2, -I * ca / 2, -sa / 2},
                          dRY[4] = {-sb / 2, -cb / 2, cb / 2, -sb / 2};
    double _Complex YX[4], dYX_a[4], dYX_b[4];
#define MM(C, A, B)                                                                                \
    do {                                                                                           \
        C[0] = A[0] * B[0] + A[1] * B[2], C[1] = A[0] * B[1] + A[1] * B[3];                        \
        C[2] = A[2] * B[0] + A[3] * B[2], C[3] = A[2] * B[1] + A[3] * B[3];                        \
    } while (0)
    MM(YX, RY, RX);
    MM(dYX_a, RY, dRX);
    MM(dYX_b, dRY, RX);
#undef MM
    /* RZ(c) M multiplies row 0 by e^{-ic/2} and row 1 by e^{ic/2}. */
    U[0] = em * YX[0], U[1] = em * YX[1], U[2] = ep * YX[2], U[3] = ep * YX[3];
    if (!dU) return;
    dU[0][0] = em * dYX_a[0], dU[0][1] = em * dYX_a[1];
    dU[0][2] = ep * dYX_a[2], dU[0][3] = ep * dYX_a[3];
    dU[1][0] = em * dYX_b[0], dU[1][1] = em * dYX_b[1];
    dU[1][2] = ep * dYX_b[2], dU[1][3] = ep * dYX_b[3];
    /* d/dc RZ(c) = diag(-i/2, i/2) RZ(c) */
    dU[2][0] = -I / 2 * U[0], dU[2][1] = -I / 2 * U[1], dU[2][2] = I / 2 * U[2],
    dU[2][3] = I / 2 * U[3];
}

/* The entangler's forward map F (basis state j goes to F j) is the CNOTs applied in order to the
 * bits of j; it is linear over GF(2), so its columns F e_k define it. CNOT(c->t): flip t when c. */
static uint64_t cnot_bits(uint64_t v, int c, int t) { return ((v >> c) & 1) ? v ^ (1ull << t) : v; }

static uint64_t entangler_apply(uint64_t v, int n, rf_sv_entangler e, int reverse) {
    int ring = e == RF_SV_RING && n >= 2;
    if (!reverse) {
        for (int q = 0; q + 1 < n; q++) v = cnot_bits(v, q, q + 1);
        if (ring) v = cnot_bits(v, n - 1, 0);
    } else { /* F^-1: the same self-inverse CNOTs in reverse order */
        if (ring) v = cnot_bits(v, n - 1, 0);
        for (int q = n - 2; q >= 0; q--) v = cnot_bits(v, q, q + 1);
    }
    return v;
}

void sv_local_map(int n, rf_sv_entangler e, uint64_t *cols) {
    /* chain: F^-1 y = y ^ (y << 1) (masked): column k = e_k + e_{k+1}; ring: the top column also
     * flips bits 0 and 1. Both keep every column within bits <= k + 1 or the two lowest bits. */
    for (int k = 0; k < n; k++) cols[k] = entangler_apply(1ull << k, n, e, 1);
}

void rf_sv_entangler_map(int n, rf_sv_entangler e, int inverse, uint64_t cols[]) {
    for (int k = 0; k < n; k++) cols[k] = entangler_apply(1ull << k, n, e, !inverse);
}

int sv_plan(int n, int amp_bytes, sv_pass *p) {
    int tile_bits = 0, row_bits = 0;
    while (((int64_t)amp_bytes << (tile_bits + 1)) <= SV_TILE_BYTES) tile_bits++;
    while (((int64_t)amp_bytes << (row_bits + 1)) <= SV_ROW_BYTES) row_bits++;
    if (tile_bits < row_bits + 2) tile_bits = row_bits + 2;
    /* the first pass: the low tile_bits qubits, contiguous tiles */
    const int k0 = n < tile_bits ? n : tile_bits;
    int np = 0, q0 = k0;
    p[np++] = (sv_pass){0, k0, 0};
    /* the rest in as few passes as tiles of rows of at least 2^row_bits amplitudes allow, the
     * qubits spread evenly, rows as wide as the tile leaves room for (long rows stream better
     * from DRAM than short ones far apart) */
    const int kmax = tile_bits - row_bits;
    int left = n - q0, passes = (left + kmax - 1) / kmax;
    for (; passes > 0; passes--) {
        const int k = (left + passes - 1) / passes;
        const int wb = tile_bits - k < q0 ? tile_bits - k : q0;
        p[np++] = (sv_pass){q0, k, wb};
        q0 += k, left -= k;
    }
    return np;
}

int rf_sv_layer_passes(int n, int amp_bytes) {
    sv_pass p[SV_MAX_PASSES];
    return sv_plan(n, amp_bytes, p);
}

/* ---- entanglement entropy ---- */

static double entropy_of(double *w, int m) {
    double tr = 0, s = 0;
    for (int i = 0; i < m; i++) tr += w[i] > 0 ? w[i] : 0;
    if (!(tr > 0)) return 0;
    for (int i = 0; i < m; i++)
        if (w[i] > 0) {
            double x = w[i] / tr;
            s -= x * log(x);
        }
    return s;
}

/* Eigenvalues of the Hermitian m x m matrix rho (row-major, upper triangle filled) into w. As a
 * column-major matrix the same memory is rho^T = conj(rho) with its lower triangle filled, and
 * conj(rho) has the same (real) eigenvalues. rho is destroyed. */
static void eigvals_herm(double _Complex *rho, int m, double *w) {
    int info = 0, lwork = -1, lrwork = -1, liwork = -1, iw;
    double _Complex wq;
    double rwq;
    zheevd_("N", "L", &m, rho, &m, w, &wq, &lwork, &rwq, &lrwork, &iw, &liwork, &info, 1, 1);
    rf_check(info == 0, "zheevd workspace query failed (info %d)", info);
    lwork = (int)creal(wq), lrwork = (int)rwq, liwork = iw;
    if (lwork < 1) lwork = 1;
    if (lrwork < 1) lrwork = 1;
    if (liwork < 1) liwork = 1;
    double _Complex *work = rf_malloc(sizeof *work * (size_t)lwork);
    double *rwork = rf_malloc(sizeof *rwork * (size_t)lrwork);
    int *iwork = rf_malloc(sizeof *iwork * (size_t)liwork);
    zheevd_("N", "L", &m, rho, &m, w, work, &lwork, rwork, &lrwork, iwork, &liwork, &info, 1, 1);
    rf_check(info == 0, "zheevd failed (info %d) on a %d x %d density matrix", info, m, m);
    free(iwork), free(rwork), free(work);
}

void sv_entropy_c128(const rf_c128 *psi, int n, double *S, int ref) {
    if (n < 2) return;
    const int small_max = n / 2; /* the smaller side of any cut has at most n/2 qubits */
    const int64_t dmax = (int64_t)1 << small_max;
    double _Complex *rho = rf_malloc(sizeof *rho * (size_t)(dmax * dmax));
    double *w = rf_malloc(sizeof *w * (size_t)dmax);
    for (int k = 1; k < n; k++) {
        /* psi as a row-major matrix A [2^(n-k), 2^k]: A[h, l] = psi[h 2^k + l]. The reduced state
         * of qubits [0, k) is (A^H A)^T, that of [k, n) is A A^H: same nonzero spectrum. */
        const int64_t cols = (int64_t)1 << k, rows = (int64_t)1 << (n - k);
        const int low_small = k <= n - k;
        const int64_t m = low_small ? cols : rows, other = low_small ? rows : cols;
        if (!ref) {
            cblas_zherk(CblasRowMajor, CblasUpper, low_small ? CblasConjTrans : CblasNoTrans,
                        (int)m, (int)other, 1.0, psi, (int)cols, 0.0, rho, (int)m);
        } else {
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = i; j < m; j++) {
                    double _Complex s = 0;
                    for (int64_t t = 0; t < other; t++)
                        s += low_small ? conj(psi[t * cols + i]) * psi[t * cols + j]
                                       : psi[i * cols + t] * conj(psi[j * cols + t]);
                    rho[i * m + j] = s;
                }
        }
        eigvals_herm(rho, (int)m, w);
        S[k - 1] = entropy_of(w, (int)m);
    }
    free(w), free(rho);
}
