/* safetensors.h -- read Hugging Face safetensors checkpoints (one file, or sharded with
 * model.safetensors.index.json) and write them.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 *   {"NAME": {"dtype": "BF16"|"F16"|"F32"|..., "shape": [...], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {...}}
 * then the data buffer; offsets are relative to the buffer's start.
 * Files are memory-mapped; tensors are zero-copy views into the mapping. The header is validated
 * against the file: offsets inside the buffer, end - begin == numel * dtype size, no overlaps,
 * dtype known. Every failure is RF_ERR with one line naming the file (and the tensor).
 */
#ifndef RF_SAFETENSORS_H
#define RF_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define RF_ST_MAX_DIMS 8

/* The float dtypes are what riverforge computes with (rf_st_to_f32); the integer ones are read and
 * written as they are: exports copy a model's other tensors unchanged and store AQLM codes as
 * I8/I16 (io/aqlm_hf.h). */
typedef enum {
    RF_DTYPE_F32 = 0, RF_DTYPE_F16, RF_DTYPE_BF16,
    RF_DTYPE_I8, RF_DTYPE_I16, RF_DTYPE_I32, RF_DTYPE_I64, RF_DTYPE_U8, RF_DTYPE_BOOL,
    RF_DTYPE_COUNT
} rf_dtype;

const char *rf_dtype_name(rf_dtype d); /* "F32", "F16", "BF16", "I8", ... as safetensors names them */
size_t rf_dtype_size(rf_dtype d);

typedef struct {
    char *name;        /* full safetensors name, e.g. "model.layers.0.mlp.down_proj.weight" */
    rf_dtype dtype;
    int ndim;
    int64_t shape[RF_ST_MAX_DIMS];
    int64_t numel;
    const void *data;  /* points into the file's mapping */
    size_t nbytes;
    int file_index;    /* index into rf_st_model.files */
} rf_st_tensor;

typedef struct {
    int nfiles;
    char **paths;      /* [nfiles] */
    void **maps;       /* [nfiles] mmap base */
    size_t *sizes;     /* [nfiles] */
    int ntensors;
    rf_st_tensor *tensors; /* sorted by name */
} rf_st_model;

/* PATH is a .safetensors file, or a directory holding model.safetensors or
 * model.safetensors.index.json (whose weight_map names the shard files). */
int rf_st_open(rf_st_model *m, const char *path);
void rf_st_close(rf_st_model *m);
/* Binary search by full name; NULL when absent. */
const rf_st_tensor *rf_st_find(const rf_st_model *m, const char *name);
/* Converts a tensor to float32 (out has numel floats). RF_ERR naming the tensor (and the first
 * offending index) when a value is NaN or Inf, or naming its dtype when it is not F32, F16, BF16. */
int rf_st_to_f32(const rf_st_model *m, const rf_st_tensor *t, float *out);

/* Writing. data is in the given dtype's layout, row-major. */
typedef struct {
    const char *name;
    rf_dtype dtype;
    int ndim;
    int64_t shape[RF_ST_MAX_DIMS];
    const void *data;
} rf_st_entry;

/* Writes PATH atomically (PATH.tmp, fsync, rename). Tensors are laid out in the given order. */
int rf_st_write(const char *path, const rf_st_entry *entries, int n);
/* Writes DIR/model.safetensors.index.json: tensor_names[i] lives in file_names[i]. */
int rf_st_write_index(const char *dir, int n, const char *const *tensor_names,
                      const char *const *file_names, uint64_t total_size);

#endif
