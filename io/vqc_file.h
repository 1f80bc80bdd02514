/* vqc_file.h -- the HDF5 files of `riverforge vqc simulate` (docs/vqc.md): its inputs, real
 * datasets named "FILE.h5:/dataset" and read as float64, and its output file. Callers need no
 * HDF5 header.
 *
 * Output (float64, written atomically): /probabilities [2^N], /expval_z [N], /entropy [N-1],
 * /state_real and /state_imag [2^N]; root attributes qubits, layers (int64), entangler,
 * precision, input, angles (strings).
 */
#ifndef RF_VQC_FILE_H
#define RF_VQC_FILE_H

#include <stddef.h>
#include <stdint.h>

#define RF_VQC_MAX_RANK 8

/* A dataset read as float64. */
typedef struct {
    double *data;                   /* malloc'd, count values, row-major */
    int64_t count;
    int rank;
    int64_t dims[RF_VQC_MAX_RANK];
} rf_vqc_array;

/* Reads the dataset named by spec, "FILE.h5:/dataset" split at the last ":/" (so file names may
 * hold colons), converting any float or integer type of rank <= RF_VQC_MAX_RANK to float64.
 * RF_ERR with "'SPEC': expected FILE.h5:/dataset" when spec has no file or dataset part, else
 * with "SPEC: " and the reason (a missing or unreadable file, a missing dataset, a string or
 * other non-real type, a rank too high, a failed checksum). On RF_ERR a holds nothing. */
int rf_vqc_read_spec(const char *spec, rf_vqc_array *a);
void rf_vqc_array_free(rf_vqc_array *a);
/* Reads spec's dataset in a child process first (io/h5_probe.h): RF_ERR with "SPEC: " and the
 * reason when the file would crash or hang HDF5 or fails to read. Call before rf_vqc_read_spec. */
int rf_vqc_probe_spec(const char *spec);
/* "[3, 6]": a's shape in messages, into buf. */
const char *rf_vqc_shape_str(const rf_vqc_array *a, char *buf, size_t len);

/* What simulate writes; N = qubits. */
typedef struct {
    int qubits, layers;
    const char *entangler, *precision; /* "chain" | "ring", "c64" | "c128" */
    const char *input, *angles;        /* the specs the circuit was given */
    const double *probabilities;       /* [2^N] */
    const double *expval_z;            /* [N] */
    const double *entropy;             /* [N-1] */
    const double *state_real, *state_imag; /* [2^N] */
} rf_vqc_output;

/* Writes o to PATH atomically (PATH.tmp, fsync, rename); RF_ERR naming PATH when it cannot. */
int rf_vqc_write_output(const char *path, const rf_vqc_output *o);

#endif
