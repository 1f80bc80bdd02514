/* cmd_vqc.c -- `riverforge vqc simulate`: runs one variational circuit on the state-vector
 * simulator (kernels/statevec/statevec.h) and writes its read-outs, so that users can check circuits
 * (docs/vqc.md). Not an MPI program.
 *
 *   riverforge vqc simulate --qubits N --layers L --entangler chain|ring
 *       --input F.h5:/dataset --angles F.h5:/dataset [--precision c64|c128] --out F.h5
 *
 * --input: any real dataset, flattened row-major, amplitude-encoded (normalized, zero-padded to
 * 2^N). --angles: float dataset [L, N, 3], (a, b, c) of RX(a), RY(b), RZ(c) per layer and qubit.
 * Output (float64, written atomically): /probabilities [2^N], /expval_z [N], /entropy [N-1]
 * (natural log, cut k = 1..N-1 between qubits [0,k) and [k,N)), /state_real and /state_imag
 * [2^N]; root attributes qubits, layers, entangler, precision, input, angles.
 */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rf_error.h"
#include "io/vqc_file.h"
#include "kernels/statevec/statevec.h"
#include "mpi/cli.h"
#include "mpi/commands.h"

#define VQC_MAX_QUBITS 30 /* c128: 16 GiB per state; the simulator needs two */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads the dataset of spec (vqc_file.h), after a child process read it safely; messages name
 * the flag. */
static int read_flag(const char *flag, const char *spec, rf_vqc_array *a) {
    if (rf_vqc_probe_spec(spec) == RF_OK && rf_vqc_read_spec(spec, a) == RF_OK) return RF_OK;
    return rf_fail_prefix("%s ", flag);
}

static void usage(FILE *f, const rf_opt *opts, int nopts) {
    rf_cli_help(
        f,
        "riverforge vqc simulate --qubits N --layers L --entangler chain|ring\n"
        "           --input F.h5:/dataset --angles F.h5:/dataset [--precision c64|c128] --out F.h5",
        "Simulates a variational quantum circuit on a state vector (qubit 0 = the least\n"
        "significant index bit): the input is amplitude-encoded (normalized, zero-padded to\n"
        "2^N); each layer applies RX(a), RY(b), RZ(c) to every qubit (fused into one 2x2\n"
        "unitary) and then the entangler (chain: CNOT 0->1->...->N-1; ring: + N-1->0).\n"
        "Writes /probabilities [2^N], /expval_z [N], /entropy [N-1] (natural log, cut k\n"
        "between qubits [0,k) and [k,N)), /state_real, /state_imag (float64) to --out,\n"
        "atomically. See docs/vqc.md.",
        opts, nopts);
}

typedef struct {
    int n, L, c64;
    rf_sv_entangler e;
    double *probabilities, *expval_z, *entropy, *state_real, *state_imag;
} vqc_result;

/* The simulation proper; x [len] is finite, not all zero and len <= 2^n (checked). */
static void simulate(vqc_result *r, const double *x, int64_t len, const double *angles) {
    const int n = r->n;
    const int64_t N = (int64_t)1 << n;
    double norm = 0;
    for (int64_t j = 0; j < len; j++) norm += x[j] * x[j];
    norm = sqrt(norm);
    r->probabilities = rf_malloc(sizeof(double) * (size_t)N);
    r->state_real = rf_malloc(sizeof(double) * (size_t)N);
    r->state_imag = rf_malloc(sizeof(double) * (size_t)N);
    r->expval_z = rf_malloc(sizeof(double) * (size_t)n);
    r->entropy = rf_malloc(sizeof(double) * (size_t)(n - 1));
    if (r->c64) {
        /* normalize in double first: float could not hold every input's squares */
        float *xf = rf_malloc(sizeof *xf * (size_t)len), *p = (float *)r->state_imag;
        for (int64_t j = 0; j < len; j++) xf[j] = (float)(x[j] / norm);
        rf_c64 *psi = rf_malloc(sizeof *psi * (size_t)N),
               *work = rf_malloc(sizeof *work * (size_t)N);
        rf_check(rf_sv_encode(psi, n, xf, len) == RF_OK, "encode: %s", rf_last_error());
        free(xf);
        rf_sv_circuit(psi, work, n, r->L, angles, r->e);
        free(work);
        rf_sv_probabilities(psi, n, p); /* floats in the first half of state_imag, for now */
        for (int64_t j = 0; j < N; j++) r->probabilities[j] = p[j];
        rf_sv_expval_z(psi, n, r->expval_z);
        rf_sv_entropy(psi, n, r->entropy);
        for (int64_t j = 0; j < N; j++)
            r->state_real[j] = crealf(psi[j]), r->state_imag[j] = cimagf(psi[j]);
        free(psi);
    } else {
        rf_c128 *psi = rf_malloc(sizeof *psi * (size_t)N),
                *work = rf_malloc(sizeof *work * (size_t)N);
        rf_check(rf_sv_encode(psi, n, x, len) == RF_OK, "encode: %s", rf_last_error());
        rf_sv_circuit(psi, work, n, r->L, angles, r->e);
        free(work);
        rf_sv_probabilities(psi, n, r->probabilities);
        rf_sv_expval_z(psi, n, r->expval_z);
        rf_sv_entropy(psi, n, r->entropy);
        for (int64_t j = 0; j < N; j++)
            r->state_real[j] = creal(psi[j]), r->state_imag[j] = cimag(psi[j]);
        free(psi);
    }
}

static int run_simulate(int argc, char **argv) {
    int n = 0, L = 0;
    const char *entangler = NULL, *input = NULL, *angles_spec = NULL, *precision = "c128",
               *out = NULL;
    rf_opt opts[] = {
        {"--qubits", RF_OPT_INT, &n, "N", "qubits, 2..30: the state has 2^N amplitudes (required)"},
        {"--layers", RF_OPT_INT, &L, "L", "layers of rotations + entangler, >= 1 (required)"},
        {"--entangler", RF_OPT_STRING, &entangler, "chain|ring",
         "CNOT chain 0->..->N-1, or ring (+ N-1->0) (required)", "statevec.entangler"},
        {"--input", RF_OPT_STRING, &input, "F.h5:/dataset",
         "real values to amplitude-encode, at most 2^N (required)"},
        {"--angles", RF_OPT_STRING, &angles_spec, "F.h5:/dataset",
         "angles [L, N, 3]: RX, RY, RZ per layer and qubit (required)"},
        {"--precision", RF_OPT_STRING, &precision, "c64|c128",
         "complex64 or complex128 amplitudes"},
        {"--out", RF_OPT_STRING, &out, "F.h5", "output file, written atomically (required)"},
    };
    const int nopts = (int)(sizeof opts / sizeof opts[0]);
    int rc = rf_cli_parse(argc, argv, "vqc simulate", opts, nopts);
    if (rc == 1) {
        usage(stdout, opts, nopts);
        return RF_EXIT_OK;
    }
    rf_sv_entangler e = RF_SV_CHAIN;
    if (rc == RF_OK && !rf_cli_has(argc, argv, "--qubits")) rc = rf_fail("--qubits N is required");
    if (rc == RF_OK && (n < 2 || n > VQC_MAX_QUBITS))
        rc = rf_fail("--qubits %d: must be between 2 and %d", n, VQC_MAX_QUBITS);
    if (rc == RF_OK && !rf_cli_has(argc, argv, "--layers")) rc = rf_fail("--layers L is required");
    if (rc == RF_OK && L < 1) rc = rf_fail("--layers %d: must be at least 1", L);
    if (rc == RF_OK && !entangler) rc = rf_fail("--entangler chain|ring is required");
    if (rc == RF_OK && rf_sv_entangler_parse(entangler, &e) != RF_OK)
        rc = rf_cli_flag_error(opts, nopts);
    if (rc == RF_OK && strcmp(precision, "c64") != 0 && strcmp(precision, "c128") != 0)
        rc = rf_fail("--precision '%s': expected c64 or c128", precision);
    if (rc == RF_OK && !input) rc = rf_fail("--input F.h5:/dataset is required");
    if (rc == RF_OK && !angles_spec) rc = rf_fail("--angles F.h5:/dataset is required");
    if (rc == RF_OK && !out) rc = rf_fail("--out F.h5 is required");

    rf_vqc_array x = {0}, ang = {0};
    if (rc == RF_OK) rc = read_flag("--input", input, &x);
    const int64_t N = (int64_t)1 << (n > 0 && n <= VQC_MAX_QUBITS ? n : 0);
    const int64_t len = x.count;
    if (rc == RF_OK && len < 1) rc = rf_fail("--input %s: the dataset is empty", input);
    if (rc == RF_OK && len > N)
        rc = rf_fail(
            "--input %s: %lld values do not fit in the 2^%d = %lld amplitudes of --qubits %d",
            input, (long long)len, n, (long long)N, n);
    if (rc == RF_OK) {
        int64_t bad = -1, nonzero = 0;
        for (int64_t j = 0; j < len && bad < 0; j++) {
            if (!isfinite(x.data[j])) bad = j;
            nonzero |= x.data[j] != 0;
        }
        if (bad >= 0)
            rc = rf_fail("--input %s: value %lld is %g", input, (long long)bad, x.data[bad]);
        else if (!nonzero)
            rc = rf_fail("--input %s: all values are zero (nothing to normalize)", input);
    }
    if (rc == RF_OK) rc = read_flag("--angles", angles_spec, &ang);
    if (rc == RF_OK && (ang.rank != 3 || ang.dims[0] != L || ang.dims[1] != n || ang.dims[2] != 3)) {
        char shape[128];
        rc = rf_fail("--angles %s: shape %s, but --layers %d --qubits %d need [%d, %d, 3]",
                     angles_spec, rf_vqc_shape_str(&ang, shape, sizeof shape), L, n, L, n);
    }
    for (int64_t i = 0; rc == RF_OK && i < ang.count; i++)
        if (!isfinite(ang.data[i]))
            rc = rf_fail("--angles %s: angle %lld is %g", angles_spec, (long long)i, ang.data[i]);

    vqc_result r = {.n = n, .L = L, .c64 = !strcmp(precision, "c64"), .e = e};
    double seconds = 0;
    if (rc == RF_OK) {
        const double t0 = now_s();
        simulate(&r, x.data, len, ang.data);
        seconds = now_s() - t0;
        const rf_vqc_output o = {
            .qubits = n, .layers = L, .entangler = rf_sv_entangler_name(e),
            .precision = precision, .input = input, .angles = angles_spec,
            .probabilities = r.probabilities, .expval_z = r.expval_z, .entropy = r.entropy,
            .state_real = r.state_real, .state_imag = r.state_imag};
        rc = rf_vqc_write_output(out, &o);
    }
    free(r.probabilities), free(r.expval_z), free(r.entropy), free(r.state_real),
        free(r.state_imag);
    rf_vqc_array_free(&ang), rf_vqc_array_free(&x);
    if (rc != RF_OK) {
        fprintf(stderr, "riverforge: error: %s\n", rf_last_error());
        return RF_EXIT_USAGE;
    }
    printf("riverforge: simulated %d qubits, %d layers (%s, %s) in %.3f s; wrote %s\n", n, L,
           rf_sv_entangler_name(e), precision, seconds, out);
    return RF_EXIT_OK;
}

int rf_cmd_vqc(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf(
            "usage: riverforge vqc simulate [flags]   (riverforge vqc simulate --help)\n\n"
            "  simulate  run one variational circuit on a state vector and write its read-outs\n");
        return RF_EXIT_OK;
    }
    if (argc < 2) {
        fprintf(stderr, "riverforge: error: 'riverforge vqc' needs a subcommand: simulate\n");
        return RF_EXIT_USAGE;
    }
    if (strcmp(argv[1], "simulate") != 0) {
        fprintf(stderr,
                "riverforge: error: unknown vqc subcommand '%s' (the one there is: simulate)\n",
                argv[1]);
        return RF_EXIT_USAGE;
    }
    return run_simulate(argc - 1, argv + 1);
}
