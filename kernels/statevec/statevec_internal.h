/* statevec_internal.h -- what the two precisions of the state-vector kernels share (statevec.c):
 * the pass plan of a layer, the entangler's index map, the LAPACK prototypes. kernels/ only.
 *
 * A pass handles the qubits [q0, q0 + k) of every amplitude at once, tile by tile: a tile is 2^k
 * rows of W = 2^wb contiguous amplitudes, row r at offset base + r * 2^q0, so that the 2^k * W
 * amplitudes of a tile (about SV_TILE_BYTES) stay in cache while the k gates sweep them. The
 * first pass has q0 = wb = 0: its tiles are contiguous blocks of the state. Tile t of a pass
 * (t < 2^(n - k - wb)) starts at base = (t >> (q0 - wb)) << (q0 + k) | (t & (2^(q0-wb) - 1)) << wb.
 */
#ifndef RF_STATEVEC_INTERNAL_H
#define RF_STATEVEC_INTERNAL_H

#include <stdint.h>

#include "kernels/statevec/statevec.h"

#ifndef SV_TILE_BYTES /* (-D overrides: for tuning with benchmarks/bench_statevec) */
#define SV_TILE_BYTES (256 * 1024) /* half of a 1 MiB L2 (Zen 4; Sapphire Rapids: 2 MiB) */
#endif
#ifndef SV_ROW_BYTES
#define SV_ROW_BYTES 256 /* four cache lines per row of a higher-qubit tile */
#endif
#ifndef SV_L1_BYTES
#define SV_L1_BYTES (16 * 1024) /* blocks of a tile swept by the lowest qubits: half of L1 */
#endif
#define SV_BUF_SKEW 1088 /* bytes between two tile buffers: other cache sets, other low bits */
#define SV_MAX_PASSES RF_SV_MAX_QUBITS
#define SV_PAR_MIN_QUBITS 12       /* below this, one thread: the state fits in L2 anyway */
#define SV_GROUPS 64 /* reductions: fixed groups summed in order (thread-count free) */

typedef struct {
    int q0, k, wb;
} sv_pass;

/* The passes of a layer over n qubits for amplitudes (or pairs of states: 2x) of amp_bytes. */
int sv_plan(int n, int amp_bytes, sv_pass *passes);

/* The index-permutation of an entangler as a table-driven GF(2) map: local[] holds the columns
 * of the forward entangler's gather map A = F^-1 (out[y] = in[A y]), which keeps the low index
 * bits local (reads of one output tile come from two input tiles); the inverse entangler uses the
 * same map as a scatter (out[A y] = in[y]). */
void sv_local_map(int n, rf_sv_entangler e, uint64_t *cols);

/* LAPACK (OpenBLAS ships it; LAPACKE may be absent): eigenvalues of a Hermitian matrix. The two
 * trailing arguments are the hidden lengths of the character arguments (gfortran ABI). */
void zheevd_(const char *jobz, const char *uplo, const int *n, double _Complex *a, const int *lda,
             double *w, double _Complex *work, const int *lwork, double *rwork, const int *lrwork,
             int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);

/* The entropy of psi (c128, n qubits) for every cut, shared by both precisions (c64 converts:
 * a Gram matrix in single precision would put ~1e-7 noise on every eigenvalue). ref != 0 builds
 * the reduced density matrices with plain loops instead of zherk. */
void sv_entropy_c128(const rf_c128 *psi, int n, double *S, int ref);

#endif
