/* sv_fixtures.h -- shared by the state-vector tests: random states and angles, and dense
 * 2^n x 2^n matrices built by Kronecker products (qubit 0 = the least significant bit, so the
 * factor of qubit n-1 is the leftmost), written here independently of kernels/statevec*.c. */
#ifndef SV_FIXTURES_H
#define SV_FIXTURES_H

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_rng.h"
#include "kernels/statevec.h"

typedef double _Complex cd;

static inline rf_c128 *fx_state(rf_rng *r, int n) {
    const int64_t N = (int64_t)1 << n;
    rf_c128 *psi = rf_malloc(sizeof *psi * (size_t)N);
    double s = 0;
    for (int64_t j = 0; j < N; j++) {
        psi[j] = rf_rng_normal(r) + I * rf_rng_normal(r);
        s += creal(psi[j] * conj(psi[j]));
    }
    for (int64_t j = 0; j < N; j++) psi[j] /= sqrt(s);
    return psi;
}

static inline rf_c64 *fx_to_c64(const rf_c128 *psi, int n) {
    rf_c64 *z = rf_malloc(sizeof *z << n);
    for (int64_t j = 0; j < (int64_t)1 << n; j++) z[j] = (rf_c64)psi[j];
    return z;
}

static inline double *fx_angles(rf_rng *r, int count) {
    double *a = rf_malloc(sizeof *a * (size_t)count);
    for (int i = 0; i < count; i++) a[i] = (2 * rf_rng_uniform(r) - 1) * M_PI * 1.5;
    return a;
}

static inline rf_c128 *fx_copy(const rf_c128 *psi, int n) {
    rf_c128 *z = rf_malloc(sizeof *z << n);
    memcpy(z, psi, sizeof *z << n);
    return z;
}

/* max_j |a_j - b_j| */
static inline double fx_maxdiff(const rf_c128 *a, const rf_c128 *b, int64_t N) {
    double m = 0;
    for (int64_t j = 0; j < N; j++)
        if (cabs(a[j] - b[j]) > m) m = cabs(a[j] - b[j]);
    return m;
}

static inline double fx_maxdiff64(const rf_c64 *a, const rf_c128 *b, int64_t N) {
    double m = 0;
    for (int64_t j = 0; j < N; j++)
        if (cabs((cd)a[j] - b[j]) > m) m = cabs((cd)a[j] - b[j]);
    return m;
}

/* ---- dense matrices (row-major d x d) ---- */

static inline cd *fx_kron(const cd *A, int64_t da, const cd *B, int64_t db) {
    cd *C = rf_malloc(sizeof *C * (size_t)(da * db * da * db));
    const int64_t d = da * db;
    for (int64_t ia = 0; ia < da; ia++)
        for (int64_t ja = 0; ja < da; ja++)
            for (int64_t ib = 0; ib < db; ib++)
                for (int64_t jb = 0; jb < db; jb++)
                    C[(ia * db + ib) * d + ja * db + jb] = A[ia * da + ja] * B[ib * db + jb];
    return C;
}

/* U_{n-1} (x) ... (x) U_0 from the 2x2 factors f[q] (row-major). */
static inline cd *fx_kron_all(int n, const cd (*f)[4]) {
    cd *M = rf_malloc(sizeof *M);
    M[0] = 1;
    int64_t d = 1;
    for (int q = n - 1; q >= 0; q--) {
        cd *next = fx_kron(M, d, f[q], 2);
        free(M);
        M = next, d *= 2;
    }
    return M;
}

/* The gate U on qubit q of n: I (x) .. U .. (x) I. */
static inline cd *fx_dense_1q(int n, int q, const cd U[4]) {
    cd f[64][4];
    for (int p = 0; p < n; p++) {
        f[p][0] = 1, f[p][1] = 0, f[p][2] = 0, f[p][3] = 1;
        if (p == q) memcpy(f[p], U, sizeof f[p]);
    }
    return fx_kron_all(n, f);
}

/* CNOT(c -> t) = |0><0|_c (x) I + |1><1|_c (x) X_t, each term a Kronecker product. */
static inline cd *fx_dense_cnot(int n, int c, int t) {
    const int64_t d = (int64_t)1 << n;
    cd f[64][4];
    cd *C = rf_calloc((size_t)(d * d), sizeof *C);
    for (int r = 0; r < 2; r++) {
        for (int p = 0; p < n; p++) {
            f[p][0] = 1, f[p][1] = 0, f[p][2] = 0, f[p][3] = 1;
            if (p == c) f[p][0] = r == 0, f[p][3] = r == 1;
            if (p == t && r == 1) f[p][0] = 0, f[p][1] = 1, f[p][2] = 1, f[p][3] = 0;
        }
        cd *T = fx_kron_all(n, f);
        for (int64_t i = 0; i < d * d; i++) C[i] += T[i];
        free(T);
    }
    return C;
}

/* C = A B (d x d). */
static inline cd *fx_matmul(const cd *A, const cd *B, int64_t d) {
    cd *C = rf_calloc((size_t)(d * d), sizeof *C);
    for (int64_t i = 0; i < d; i++)
        for (int64_t k = 0; k < d; k++) {
            const cd a = A[i * d + k];
            if (a != 0)
                for (int64_t j = 0; j < d; j++) C[i * d + j] += a * B[k * d + j];
        }
    return C;
}

static inline void fx_matvec(const cd *A, const rf_c128 *x, rf_c128 *y, int64_t d) {
    for (int64_t i = 0; i < d; i++) {
        cd s = 0;
        for (int64_t j = 0; j < d; j++) s += A[i * d + j] * x[j];
        y[i] = s;
    }
}

/* RX, RY, RZ written out from their definitions. */
static inline void fx_rx(double a, cd U[4]) {
    U[0] = cos(a / 2), U[1] = -I * sin(a / 2), U[2] = -I * sin(a / 2), U[3] = cos(a / 2);
}
static inline void fx_ry(double b, cd U[4]) {
    U[0] = cos(b / 2), U[1] = -sin(b / 2), U[2] = sin(b / 2), U[3] = cos(b / 2);
}
static inline void fx_rz(double c, cd U[4]) {
    U[0] = cexp(-I * c / 2), U[1] = 0, U[2] = 0, U[3] = cexp(I * c / 2);
}
static inline void fx_mul2(const cd A[4], const cd B[4], cd C[4]) {
    cd t[4] = {A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3], A[2] * B[0] + A[3] * B[2],
               A[2] * B[1] + A[3] * B[3]};
    memcpy(C, t, sizeof t);
}
/* RZ(c) RY(b) RX(a) */
static inline void fx_fused(double a, double b, double c, cd U[4]) {
    cd X[4], Y[4], Z[4];
    fx_rx(a, X), fx_ry(b, Y), fx_rz(c, Z);
    fx_mul2(Y, X, U);
    fx_mul2(Z, U, U);
}

/* The dense matrix of one whole layer: kron of the fused rotations, then the entangler's CNOTs. */
static inline cd *fx_dense_layer(int n, const double *ang, rf_sv_entangler e) {
    cd f[64][4];
    for (int q = 0; q < n; q++) fx_fused(ang[3 * q], ang[3 * q + 1], ang[3 * q + 2], f[q]);
    cd *M = fx_kron_all(n, f);
    const int64_t d = (int64_t)1 << n;
    int gates[64][2], ng = 0;
    for (int q = 0; q + 1 < n; q++) gates[ng][0] = q, gates[ng][1] = q + 1, ng++;
    if (e == RF_SV_RING && n >= 2) gates[ng][0] = n - 1, gates[ng][1] = 0, ng++;
    for (int g = 0; g < ng; g++) {
        cd *C = fx_dense_cnot(n, gates[g][0], gates[g][1]), *P = fx_matmul(C, M, d);
        free(C), free(M);
        M = P;
    }
    return M;
}

#endif
