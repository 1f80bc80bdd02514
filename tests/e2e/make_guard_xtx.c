/* make_guard_xtx.c -- writes a one-matrix XTX file that is well-formed HDF5, symmetric and finite,
 * for the guards test (test_guards.sh):
 *   make_guard_xtx FILE.h5 NAME N KIND
 * KIND: identity; minus_identity (-I); negative_diagonal (I with -1 at [N-1, N-1]); indefinite
 * (I with 2 at [0, 1] and [1, 0]: eigenvalue -1); zero_first (I with 0 at [0, 0]: positive
 * semi-definite, and a W whose only nonzero column is 0 lies in its null space). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/xtx_file.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: make_guard_xtx FILE.h5 NAME N identity|minus_identity|"
                        "negative_diagonal|indefinite|zero_first\n");
        return 2;
    }
    const int64_t n = atoll(argv[3]);
    const char *kind = argv[4], *kinds[] = {"identity", "minus_identity", "negative_diagonal",
                                            "indefinite", "zero_first"};
    int known = 0;
    for (int k = 0; k < 5; k++) known |= !strcmp(kind, kinds[k]);
    if (!known || n < 2) {
        fprintf(stderr, "make_guard_xtx: unknown KIND %s or N %s < 2\n", kind, argv[3]);
        return 2;
    }
    double *x = calloc((size_t)(n * n), sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i * n + i] = strcmp(kind, "minus_identity") ? 1.0 : -1.0;
    if (!strcmp(kind, "negative_diagonal")) x[n * n - 1] = -1;
    if (!strcmp(kind, "indefinite")) x[1] = x[n] = 2;
    if (!strcmp(kind, "zero_first")) x[0] = 0;
    const char *names[1] = {argv[2]};
    const double *mats[1] = {x};
    const int rc = rf_xtx_write(argv[1], 1, names, mats, &n, 1);
    if (rc != RF_OK) fprintf(stderr, "make_guard_xtx: %s\n", rf_last_error());
    free(x);
    return rc == RF_OK ? 0 : 1;
}
