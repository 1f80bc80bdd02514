/* gen_common.c -- see gen_common.h. */
#include "kernels/vitgen/gen_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

void rf_gen_free(rf_gen_result *res) {
    free(res->weight);
    for (int i = 0; i < res->ntensors; i++) free(res->tensors[i].data);
    memset(res, 0, sizeof *res);
}

void rf_gen_add_tensor(rf_gen_result *res, const char *name, int ndim, const int64_t *dims,
                       const float *data) {
    rf_check(res->ntensors < RF_GEN_MAX_TENSORS, "too many generator tensors (%s)", name);
    rf_check(ndim >= 1 && ndim <= 3 && strlen(name) < sizeof res->tensors[0].name,
             "bad generator tensor %s", name);
    rf_gen_tensor *t = &res->tensors[res->ntensors++];
    strcpy(t->name, name);
    t->ndim = ndim;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (t->dims[d] = dims[d]);
    t->data = rf_malloc((size_t)n * sizeof *t->data);
    memcpy(t->data, data, (size_t)n * sizeof *t->data);
}

double rf_gen_sum_sq_diff(const float *a, const float *b, int64_t n) {
    /* fixed blocks summed in block order: the same bits for any thread count */
    enum { BLOCK = 65536 };
    const int64_t nblocks = (n + BLOCK - 1) / BLOCK;
    double *part = rf_malloc((size_t)(nblocks + 1) * sizeof *part);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < nblocks; k++) {
        double sum = 0;
        for (int64_t j = k * BLOCK; j < n && j < (k + 1) * BLOCK; j++) {
            const double d = (double)a[j] - (b ? (double)b[j] : 0.0);
            sum += d * d;
        }
        part[k] = sum;
    }
    double sum = 0;
    for (int64_t k = 0; k < nblocks; k++) sum += part[k];
    free(part);
    return sum;
}

double rf_gen_rel_err(const float *a, const float *b, int64_t n) {
    const double num = rf_gen_sum_sq_diff(a, b, n), den = rf_gen_sum_sq_diff(b, NULL, n);
    return den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

int rf_gen_progress_step(rf_gen_progress *p) {
    p->done++;
    return rf_progress_at(p->fn, p->ctx, (double)p->done / p->total);
}
