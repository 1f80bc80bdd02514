/* bench_statevec.c -- state-vector pass throughput on the CPU (issue 4 part 5, CPU half), against
 * the bytes-moved floor: a memcpy of the same bytes on the same threads.
 *
 *   bench_statevec [--nmin 20] [--nmax 26] [--prec c64|c128|both] [--reps 3] [--adjoint]
 *
 * For each n and precision, best of --reps runs (OMP_NUM_THREADS threads):
 *   memcpy        copy of one state (2^n amplitudes): the floor, GB/s = 2 * bytes / t
 *   1q gate       one gate on qubit 0 and on qubit n-1 (one pass each)
 *   rot layer     rf_sv_rotation_layer: n fused gates in rf_sv_layer_passes(n) passes; GB/s counts
 *                 2 * bytes per pass; "gate/s" the equivalent rate of single gates; GFLOP/s at
 *                 14 real FLOP per amplitude and gate (a 2x2 complex product)
 *   entangle      rf_sv_entangle chain (a gather) and ring^-1 (a scatter): one pass
 *   probs         rf_sv_probabilities: reads the state, writes 2^n reals
 *   expval_z      rf_sv_expval_z: reads the state
 *   adjoint       (--adjoint) rf_sv_adjoint of one ring layer: time per layer
 * Bytes moved per pass = 2 * 2^n * sizeof(amplitude): a pass reads the state and writes it
 * (docs/perf.md has the numbers).
 */
#include <complex.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "kernels/statevec/statevec.h"

#include "bench_util.h"

static int reps = 3;

static void row(const char *prec, int n, const char *what, double t, double bytes, double copy_gbs,
                const char *extra) {
    const double gbs = bytes / t / 1e9;
    printf("%-5s %2d  %-22s %9.2f ms %8.2f GB/s  %5.0f%% of memcpy  %s\n", prec, n, what, 1e3 * t,
           gbs, 100 * gbs / copy_gbs, extra);
}

/* One precision's measurements; T/R the types, S the suffix. */
#define BENCH_PRECISION(T, R, S)                                                                   \
    static void bench_##S(int n, int adjoint) {                                                    \
        const int64_t N = (int64_t)1 << n;                                                         \
        const double bytes = (double)sizeof(T) * (double)N, pass = 2 * bytes;                      \
        T *psi = rf_malloc(sizeof(T) * (size_t)N), *work = rf_malloc(sizeof(T) * (size_t)N);       \
        _Pragma("omp parallel for schedule(static)") for (int64_t j = 0; j < N; j++) {             \
            psi[j] = (R)((j % 7) - 3) / (R)(1 << (n / 2)), work[j] = 0;                            \
        }                                                                                          \
        double t, tcopy, ang[3 * RF_SV_MAX_QUBITS];                                                \
        for (int i = 0; i < 3 * n; i++) ang[i] = 0.1 + 0.01 * i;                                   \
        BEST(tcopy, reps, par_memcpy(work, psi, (size_t)bytes));                                         \
        const double copy_gbs = pass / tcopy / 1e9;                                                \
        row(#S, n, "memcpy (floor)", tcopy, pass, copy_gbs, "");                                   \
        const T U[4] = {0.6, 0.8 * I, 0.8 * I, 0.6};                                               \
        BEST(t, reps, rf_sv_apply_1q_##S(psi, n, 0, U));                                                 \
        row(#S, n, "1q gate, qubit 0", t, pass, copy_gbs, "1 pass");                               \
        BEST(t, reps, rf_sv_apply_1q_##S(psi, n, n - 1, U));                                             \
        row(#S, n, "1q gate, top qubit", t, pass, copy_gbs, "1 pass");                             \
        const int np = rf_sv_layer_passes(n, (int)sizeof(T));                                      \
        BEST(t, reps, rf_sv_rotation_layer_##S(psi, n, ang));                                            \
        char extra[160];                                                                           \
        snprintf(extra, sizeof extra, "%d passes for %d qubits; %.1f ms/gate-equiv; %.1f GFLOP/s", \
                 np, n, 1e3 * t / n, 14.0 * n * (double)N / t / 1e9);                              \
        row(#S, n, "rotation layer", t, np *pass, copy_gbs, extra);                                \
        snprintf(extra, sizeof extra, "(whole layer vs ONE memcpy: %.2fx its time)", t / tcopy);   \
        row(#S, n, "  per pass", t / np, pass, copy_gbs, extra);                                   \
        BEST(t, reps, rf_sv_entangle_##S(psi, work, n, RF_SV_CHAIN, 0));                                 \
        row(#S, n, "CNOT chain (gather)", t, pass, copy_gbs, "1 pass");                            \
        BEST(t, reps, rf_sv_entangle_##S(psi, work, n, RF_SV_RING, 1));                                  \
        row(#S, n, "CNOT ring^-1 (scatter)", t, pass, copy_gbs, "1 pass");                         \
        R *p = (R *)work;                                                                          \
        BEST(t, reps, rf_sv_probabilities_##S(psi, n, p));                                               \
        row(#S, n, "probabilities", t, bytes + (double)sizeof(R) * N, copy_gbs,                    \
            "reads the state, writes 2^n reals");                                                  \
        double z[RF_SV_MAX_QUBITS];                                                                \
        BEST(t, reps, rf_sv_expval_z_##S(psi, n, z));                                                    \
        row(#S, n, "<Z> all qubits", t, bytes, copy_gbs, "reads the state");                       \
        if (adjoint) {                                                                             \
            T *w3 = rf_malloc(sizeof(T) * 3 * (size_t)N);                                          \
            R *dl = rf_malloc(sizeof(R) * (size_t)N);                                              \
            for (int64_t j = 0; j < N; j++) dl[j] = (R)1e-3 * (R)(j & 15);                         \
            double g[3 * RF_SV_MAX_QUBITS];                                                        \
            const int np2 = rf_sv_layer_passes(n, 2 * (int)sizeof(T));                             \
            BEST(t, reps, rf_sv_adjoint_##S(psi, dl, w3, n, 1, ang, RF_SV_RING, g));                     \
            snprintf(extra, sizeof extra,                                                          \
                     "1 layer: perm + %d passes over psi and lambda (+ lambda init, final copy)",  \
                     np2);                                                                         \
            row(#S, n, "adjoint, per layer", t, 2 * (np2 + 1) * pass, copy_gbs, extra);            \
            free(dl), free(w3);                                                                    \
        }                                                                                          \
        free(work), free(psi);                                                                     \
    }

BENCH_PRECISION(rf_c64, float, c64)
BENCH_PRECISION(rf_c128, double, c128)

int main(int argc, char **argv) {
    int nmin = 20, nmax = 26, adjoint = 0;
    const char *prec = "both";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nmin") && i + 1 < argc)
            nmin = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--nmax") && i + 1 < argc)
            nmax = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--prec") && i + 1 < argc)
            prec = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--adjoint"))
            adjoint = 1;
        else {
            fprintf(stderr, "usage: bench_statevec [--nmin N] [--nmax N] [--prec c64|c128|both] "
                            "[--reps R] [--adjoint]\n");
            return 2;
        }
    }
    printf("bench_statevec: %d threads, n = %d..%d, best of %d\n", omp_get_max_threads(), nmin,
           nmax, reps);
    for (int n = nmin; n <= nmax; n++) {
        if (strcmp(prec, "c128") != 0) bench_c64(n, adjoint);
        if (strcmp(prec, "c64") != 0) bench_c128(n, adjoint);
    }
    return 0;
}
