/* fuzz_safetensors.c -- libFuzzer harness: a .safetensors file (8-byte length, JSON header, data)
 * read by rf_st_open, the reader every command uses.
 *
 * Input: the file's bytes. Checks: a refusal is one line naming the file; an accepted file keeps
 * the reader's promise to the kernels (safetensors.h), re-derived here by brute force from the
 * input: every tensor's bytes lie inside the data buffer, hold numel x dtype-size bytes with
 * numel the product of its shape, no two tensors share a byte, names are sorted and unique and
 * rf_st_find finds each one; converting a float tensor reads only its bytes (AddressSanitizer
 * and the mapping's end watch that) and refuses non-finite values with a line naming it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

#define CONVERT_MAX (1 << 20) /* floats converted per tensor: more costs time, finds nothing new */

static void check_accepted(const rf_st_model *m, const uint8_t *data, size_t size) {
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | data[i];
    const char *buf = (const char *)m->maps[0] + 8 + hlen, *end = (const char *)m->maps[0] + size;
    FUZZ_CHECK(m->nfiles == 1 && m->sizes[0] == size, "one file of %zu bytes", size);
    for (int i = 0; i < m->ntensors; i++) {
        const rf_st_tensor *t = &m->tensors[i];
        FUZZ_CHECK(t->dtype >= 0 && t->dtype < RF_DTYPE_COUNT && t->ndim >= 0 &&
                       t->ndim <= RF_ST_MAX_DIMS && t->file_index == 0,
                   "tensor %s: dtype %d ndim %d", t->name, (int)t->dtype, t->ndim);
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (uint64_t)t->shape[d];
        FUZZ_CHECK((uint64_t)t->numel == numel && t->nbytes == numel * rf_dtype_size(t->dtype),
                   "tensor %s: numel %lld nbytes %zu", t->name, (long long)t->numel, t->nbytes);
        const char *p = t->data;
        FUZZ_CHECK(p >= buf && p <= end && t->nbytes <= (size_t)(end - p),
                   "tensor %s lies outside the data buffer", t->name);
        FUZZ_CHECK(i == 0 || strcmp(m->tensors[i - 1].name, t->name) < 0, "names not sorted");
        FUZZ_CHECK(rf_st_find(m, t->name) == t, "rf_st_find misses %s", t->name);
        for (int j = 0; j < i; j++) {
            const rf_st_tensor *u = &m->tensors[j];
            const char *q = u->data;
            FUZZ_CHECK(!t->nbytes || !u->nbytes || p + t->nbytes <= q || q + u->nbytes <= p,
                       "tensors %s and %s overlap", u->name, t->name);
        }
        if (t->dtype > RF_DTYPE_BF16 || t->numel > CONVERT_MAX) continue;
        float *out = malloc((size_t)t->numel * sizeof *out + 1);
        if (rf_st_to_f32(m, t, out) != RF_OK) fuzz_check_refusal(t->name);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("fuzz.safetensors", data, size);
    rf_st_model m;
    if (rf_st_open(&m, path) != RF_OK) {
        fuzz_check_refusal(path);
        return 0;
    }
    check_accepted(&m, data, size);
    rf_st_close(&m);
    return 0;
}
