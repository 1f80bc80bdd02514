/* make_xtx.c -- writes a one-matrix XTX file for the bad-input tests:
 *   make_xtx FILE.h5 NAME N identity|nan
 * /xtx/NAME is the N x N identity, with a NaN at [0, 0] for "nan". Uses riverforge's own writer,
 * so the file is well-formed HDF5 and only its content is bad. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/xtx_file.h"

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: make_xtx FILE.h5 NAME N identity|nan\n");
        return 2;
    }
    int64_t n = atoll(argv[3]);
    double *x = calloc((size_t)(n * n), sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i * n + i] = 1.0;
    if (!strcmp(argv[4], "nan")) x[0] = NAN;
    const char *names[1] = {argv[2]};
    const double *mats[1] = {x};
    int rc = rf_xtx_write(argv[1], 1, names, mats, &n, 1);
    if (rc != RF_OK) fprintf(stderr, "make_xtx: %s\n", rf_last_error());
    free(x);
    return rc == RF_OK ? 0 : 1;
}
