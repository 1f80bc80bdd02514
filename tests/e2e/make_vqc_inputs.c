/* make_vqc_inputs.c -- the CLI test's helper (tests/e2e/test_vqc_cli.sh): writes inputs for
 * `riverforge vqc simulate` and checks its outputs independently (dense Kronecker matrices of
 * sv_fixtures.h, not the simulator).
 *
 *   make_vqc_inputs write DIR N L      DIR/in.h5: /x (2^N - 3 random values), /one ([1]),
 *                                      /long (2^N + 1 values), /zeros (8 zeros);
 *                                      DIR/angles.h5: /random [L, N, 3], /zero [L, N, 3],
 *                                      /ghz [1, N, 3] (RY(pi/2) on qubit 0), /wrong [L, N]
 *   make_vqc_inputs check OUT.h5 KIND [ARGS]   exit 0 when the check holds, else 1 with a line:
 *       basic                 sum p = 1, |state|^2 = p, <Z> from p, 0 <= S_k <= min(k, N-k) ln 2
 *       zero                  |0..0>: p_0 = 1, <Z> = 1, S = 0
 *       ghz                   p_0 = p_last = 1/2, every S_k = ln 2
 *       dense IN.h5 DSET ANG.h5 DSET chain|ring TOL   the state against dense layer matrices
 *       same OTHER.h5 TOL     every dataset within TOL of OTHER.h5's
 */
#include <stdio.h>

#include "io/h5_util.h"
#include "io/vqc_file.h"
#include "tests/fixtures/dense_statevec.h"

static void write_vec(hid_t f, const char *name, int rank, const hsize_t *dims, const double *v) {
    rf_h5_write_dataset(f, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, dims, v);
}

static int cmd_write(const char *dir, int n, int L) {
    char path[4096];
    rf_rng r;
    rf_rng_init(&r, 77);
    const int64_t N = (int64_t)1 << n;
    double *v = rf_calloc((size_t)(N + 1), sizeof *v);
    snprintf(path, sizeof path, "%s/in.h5", dir);
    hid_t f = rf_h5_create_mem(path);
    for (int64_t j = 0; j < N + 1; j++) v[j] = rf_rng_normal(&r);
    hsize_t d = (hsize_t)(N - 3);
    write_vec(f, "/x", 1, &d, v);
    d = (hsize_t)(N + 1);
    write_vec(f, "/long", 1, &d, v);
    d = 1;
    const double one = 1;
    write_vec(f, "/one", 1, &d, &one);
    memset(v, 0, sizeof *v * 8);
    d = 8;
    write_vec(f, "/zeros", 1, &d, v);
    if (rf_h5_finish(f, path, RF_OK) != RF_OK) return fprintf(stderr, "%s\n", rf_last_error()), 1;

    snprintf(path, sizeof path, "%s/angles.h5", dir);
    f = rf_h5_create_mem(path);
    double *a = fx_angles(&r, L * n * 3);
    hsize_t dims[3] = {(hsize_t)L, (hsize_t)n, 3};
    write_vec(f, "/random", 3, dims, a);
    write_vec(f, "/wrong", 2, dims, a);
    memset(a, 0, sizeof *a * (size_t)(L * n * 3));
    write_vec(f, "/zero", 3, dims, a);
    a[1] = M_PI / 2; /* layer 0, qubit 0, RY */
    dims[0] = 1;
    write_vec(f, "/ghz", 3, dims, a);
    free(a), free(v);
    return rf_h5_finish(f, path, RF_OK) != RF_OK;
}

/* The whole dataset FILE:DSET as doubles, its length in *len (NULL when it cannot be read). */
static double *read_all(const char *file, const char *dset, int64_t *len) {
    char spec[8200];
    snprintf(spec, sizeof spec, "%s:%s", file, dset);
    rf_vqc_array a;
    if (rf_vqc_read_spec(spec, &a) != RF_OK) return NULL;
    *len = a.count;
    return a.data;
}

/* Prints one line and fails the check. */
#define FAIL(...) return fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), 1

static const char *names[] = {"/probabilities", "/expval_z", "/entropy", "/state_real",
                              "/state_imag"};

/* The dense product of the layer matrices on the encoded input against the written state. */
static int check_dense(char **argv, int n, int64_t N, const double *re, const double *im) {
    int64_t nx, na;
    double *x = read_all(argv[4], argv[5], &nx), *ang = read_all(argv[6], argv[7], &na);
    if (!x || !ang) {
        free(x), free(ang);
        FAIL("%s", rf_last_error());
    }
    const rf_sv_entangler e = !strcmp(argv[8], "ring") ? RF_SV_RING : RF_SV_CHAIN;
    const double tol = atof(argv[9]);
    const int L = (int)(na / (3 * n));
    rf_c128 *psi = rf_calloc((size_t)N, sizeof *psi), *next = rf_malloc(sizeof *next * (size_t)N);
    double s = 0;
    for (int64_t j = 0; j < nx; j++) s += x[j] * x[j];
    for (int64_t j = 0; j < nx; j++) psi[j] = x[j] / sqrt(s);
    for (int l = 0; l < L; l++) {
        cd *D = fx_dense_layer(n, ang + (size_t)l * n * 3, e);
        fx_matvec(D, psi, next, N);
        memcpy(psi, next, sizeof *psi * (size_t)N);
        free(D);
    }
    int64_t bad = -1;
    for (int64_t j = 0; j < N && bad < 0; j++)
        if (cabs(psi[j] - (re[j] + I * im[j])) > tol) bad = j;
    if (bad >= 0)
        fprintf(stderr, "state_%lld = %g%+gi, the dense product gives %g%+gi\n", (long long)bad,
                re[bad], im[bad], creal(psi[bad]), cimag(psi[bad]));
    free(next), free(psi), free(ang), free(x);
    return bad >= 0;
}

/* Every dataset within tol of OTHER.h5's. */
static int check_same(const char *other, double tol, double *const *v, const int64_t *len) {
    for (int i = 0; i < 5; i++) {
        int64_t m = 0;
        double *w = read_all(other, names[i], &m);
        int bad = !w || m != len[i];
        if (bad) fprintf(stderr, "%s %s: missing or another shape\n", other, names[i]);
        for (int64_t j = 0; !bad && j < m; j++)
            if (fabs(w[j] - v[i][j]) > tol) {
                fprintf(stderr, "%s[%lld]: %.17g vs %.17g\n", names[i], (long long)j, v[i][j], w[j]);
                bad = 1;
            }
        free(w);
        if (bad) return 1;
    }
    return 0;
}

/* The checks on the five datasets v[] (lengths len[]) of OUT.h5. */
static int check(int argc, char **argv, double *const *v, const int64_t *len) {
    const char *kind = argv[3];
    const double *p = v[0], *z = v[1], *S = v[2], *re = v[3], *im = v[4];
    const int n = (int)len[1];
    const int64_t N = len[0];
    if (N != (int64_t)1 << n || len[2] != n - 1 || len[3] != N || len[4] != N)
        FAIL("shapes: p %lld, <Z> %d, S %lld", (long long)N, n, (long long)len[2]);
    if (!strcmp(kind, "basic")) {
        double s = 0;
        for (int64_t j = 0; j < N; j++) {
            s += p[j];
            if (fabs(re[j] * re[j] + im[j] * im[j] - p[j]) > 1e-6)
                FAIL("|state_%lld|^2 != p", (long long)j);
        }
        if (fabs(s - 1) > 1e-6) FAIL("sum p = %.17g", s);
        for (int q = 0; q < n; q++) {
            double want = 0;
            for (int64_t j = 0; j < N; j++) want += ((j >> q) & 1) ? -p[j] : p[j];
            if (fabs(z[q] - want) > 1e-6) FAIL("<Z_%d> = %g, from p %g", q, z[q], want);
        }
        for (int k = 1; k < n; k++)
            if (S[k - 1] < -1e-9 || S[k - 1] > (k < n - k ? k : n - k) * log(2) + 1e-9)
                FAIL("S_%d = %g out of range", k, S[k - 1]);
        return 0;
    }
    if (!strcmp(kind, "zero") || !strcmp(kind, "ghz")) {
        const int ghz = !strcmp(kind, "ghz");
        for (int64_t j = 0; j < N; j++) {
            const double want = ghz ? (j == 0 || j == N - 1 ? 0.5 : 0) : (j == 0);
            if (fabs(p[j] - want) > 1e-6) FAIL("p_%lld = %g, expected %g", (long long)j, p[j], want);
        }
        for (int q = 0; q < n; q++)
            if (fabs(z[q] - (ghz ? 0 : 1)) > 1e-6) FAIL("<Z_%d> = %g", q, z[q]);
        for (int k = 1; k < n; k++)
            if (fabs(S[k - 1] - (ghz ? log(2) : 0)) > 1e-6) FAIL("S_%d = %.17g", k, S[k - 1]);
        return 0;
    }
    if (!strcmp(kind, "dense") && argc >= 10) return check_dense(argv, n, N, re, im);
    if (!strcmp(kind, "same") && argc >= 6) return check_same(argv[4], atof(argv[5]), v, len);
    FAIL("unknown check '%s' or missing arguments", kind);
}

static int cmd_check(int argc, char **argv) {
    double *v[5] = {NULL};
    int64_t len[5];
    int rc = 0;
    for (int i = 0; i < 5 && !rc; i++)
        if (!(v[i] = read_all(argv[2], names[i], &len[i])))
            rc = 1, fprintf(stderr, "%s: %s\n", argv[2], rf_last_error());
    if (!rc) rc = check(argc, argv, v, len);
    for (int i = 0; i < 5; i++) free(v[i]);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "write"))
        return cmd_write(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc >= 4 && !strcmp(argv[1], "check")) return cmd_check(argc, argv);
    fprintf(stderr,
            "usage: make_vqc_inputs write DIR N L | check OUT.h5 KIND [ARGS] (see the source)\n");
    return 2;
}
