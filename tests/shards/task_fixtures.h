/* task_fixtures.h -- small safetensors models for the task-model tests: a list of tensor names
 * and shapes written as F32 zeros (only names and shapes matter to the task list), and an AQLM
 * configuration that fits their tiny matrices. Include after cmocka.h and tests/fixtures/tmpdir.h. */
#ifndef RF_TASK_FIXTURES_H
#define RF_TASK_FIXTURES_H

#include <stdint.h>

#include "common/rf_error.h"
#include "io/safetensors.h"
#include "kernels/aqlm/aqlm.h"

typedef struct {
    const char *name;
    int64_t rows, cols; /* cols 0: a vector */
} tensor_spec;

/* Writes the n tensors (at most 16, each at most 64 x 64) to DIR/file and opens it. */
static inline void open_model(void **state, const char *file, const tensor_spec *t, int n,
                              rf_st_model *m) {
    static float zeros[64 * 64];
    rf_st_entry e[16];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++) {
        e[i] = (rf_st_entry){.name = t[i].name, .dtype = RF_DTYPE_F32, .ndim = t[i].cols ? 2 : 1,
                             .data = zeros};
        e[i].shape[0] = t[i].rows;
        e[i].shape[1] = t[i].cols;
    }
    char path[4096];
    assert_int_equal(rf_st_write(in_dir(path, state, file), e, n), RF_OK);
    assert_int_equal(rf_st_open(m, path), RF_OK);
}

static inline rf_aqlm_config tiny_config(void) {
    rf_aqlm_config c = rf_aqlm_config_default();
    c.nbits_per_codebook = 2;
    c.in_group_size = 4;
    return c;
}

#endif
