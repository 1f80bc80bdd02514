/* vqc_file.c -- reading "FILE.h5:/dataset" specs and writing the output of
 * `riverforge vqc simulate` (vqc_file.h). */
#include "io/vqc_file.h"

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/h5_probe.h"
#include "io/h5_util.h"

/* "F.h5:/dataset" -> file (malloc'd) and dataset ("/dataset", inside spec). The split is at the
 * last ":/", so file names may hold colons. */
static int split_spec(const char *spec, char **file, const char **dset) {
    const char *sep = NULL;
    for (const char *p = spec; (p = strstr(p, ":/")) != NULL; p++) sep = p;
    if (!sep || sep == spec || !sep[2]) return rf_fail("'%s': expected FILE.h5:/dataset", spec);
    *file = rf_strdup(spec);
    (*file)[sep - spec] = '\0';
    *dset = sep + 1;
    return RF_OK;
}

/* The open dataset dpath into a: its shape, then all its values as float64. */
static int read_dataset(hid_t d, const char *dpath, rf_vqc_array *a) {
    hsize_t dims[RF_VQC_MAX_RANK];
    a->rank = rf_h5_dataset_rank(d, dims, RF_VQC_MAX_RANK);
    hid_t type = RF_H5(H5Dget_type(d));
    const H5T_class_t cls = H5Tget_class(type);
    RF_H5(H5Tclose(type));
    if (a->rank > RF_VQC_MAX_RANK) return rf_fail("rank %d is not supported", a->rank);
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        return rf_fail("%s is not a real (float or integer) dataset", dpath);
    a->count = 1;
    for (int i = 0; i < a->rank; i++) {
        a->dims[i] = (int64_t)dims[i];
        a->count *= a->dims[i];
    }
    a->data = rf_malloc(sizeof *a->data * (size_t)(a->count > 0 ? a->count : 1));
    int rc = rf_h5_read_dataset(d, H5T_NATIVE_DOUBLE, a->data);
    if (rc != RF_OK) rf_vqc_array_free(a);
    return rc;
}

int rf_vqc_read_spec(const char *spec, rf_vqc_array *a) {
    memset(a, 0, sizeof *a);
    char *file = NULL;
    const char *dpath = NULL;
    if (split_spec(spec, &file, &dpath) != RF_OK) return RF_ERR;
    hid_t f, d;
    int rc = rf_h5_open(file, &f);
    if (rc == RF_OK) {
        rc = rf_h5_open_dataset(f, dpath, &d);
        if (rc == RF_OK) {
            rc = read_dataset(d, dpath, a);
            RF_H5(H5Dclose(d));
        }
        rf_h5_close(f);
    }
    free(file);
    if (rc != RF_OK) rf_fail_prefix("%s: ", spec);
    return rc;
}

int rf_vqc_probe_spec(const char *spec) {
    char *file = NULL;
    const char *dpath = NULL;
    if (split_spec(spec, &file, &dpath) != RF_OK) return RF_ERR;
    int rc = rf_h5_probe(file, dpath, 1);
    free(file);
    return rc == RF_OK ? RF_OK : rf_fail_prefix("%s: ", spec);
}

void rf_vqc_array_free(rf_vqc_array *a) {
    free(a->data);
    a->data = NULL;
}

const char *rf_vqc_shape_str(const rf_vqc_array *a, char *buf, size_t len) {
    hsize_t dims[RF_VQC_MAX_RANK];
    for (int i = 0; i < a->rank; i++) dims[i] = (hsize_t)a->dims[i];
    return rf_h5_shape_str(dims, a->rank, buf, len);
}

int rf_vqc_write_output(const char *path, const rf_vqc_output *o) {
    hid_t f = rf_h5_create_mem(path);
    const hsize_t N = (hsize_t)1 << o->qubits, n = (hsize_t)o->qubits,
                  cuts = (hsize_t)(o->qubits - 1);
    const struct { const char *name; hsize_t len; const double *data; } sets[] = {
        {"/probabilities", N, o->probabilities}, {"/expval_z", n, o->expval_z},
        {"/entropy", cuts, o->entropy},          {"/state_real", N, o->state_real},
        {"/state_imag", N, o->state_imag}};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        rf_h5_write_dataset(f, sets[i].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &sets[i].len,
                            sets[i].data);
    rf_h5_attr_i64(f, ".", "qubits", o->qubits);
    rf_h5_attr_i64(f, ".", "layers", o->layers);
    rf_h5_attr_str(f, ".", "entangler", o->entangler);
    rf_h5_attr_str(f, ".", "precision", o->precision);
    rf_h5_attr_str(f, ".", "input", o->input);
    rf_h5_attr_str(f, ".", "angles", o->angles);
    return rf_h5_finish(f, path, RF_OK);
}
