/* aqlm_hf.c -- the aqlm-hf tensors of one quantized matrix and the config.json around them
 * (aqlm_hf.h). */
#include "io/aqlm_hf.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "io/atomic_file.h"
#include "io/json_file.h"

/* log2(q->K): the bits of one code. */
static int code_bits(const rf_aqlm_matrix *q) {
    int nbits = 0;
    while ((1 << nbits) < q->K) nbits++;
    return nbits;
}

void rf_aqlm_hf_entries(const char *name, const rf_aqlm_matrix *q, rf_st_entry e[3],
                        char names[3][RF_AQLM_HF_NAME_LEN]) {
    int64_t rows = q->out_features / q->og, groups = q->in_features / q->ig;
    int64_t ncodes = rows * groups * q->M, ncb = (int64_t)q->M * q->K * q->og * q->ig;
    int nbits = code_bits(q);
    rf_dtype code_type = nbits <= 8 ? RF_DTYPE_I8 : RF_DTYPE_I16;
    void *codes = rf_malloc((size_t)ncodes * rf_dtype_size(code_type));
    for (int64_t i = 0; i < ncodes; i++) {
        int32_t c = rf_aqlm_hf_code(q->codes[i], nbits);
        if (code_type == RF_DTYPE_I8) ((int8_t *)codes)[i] = (int8_t)c;
        else ((int16_t *)codes)[i] = (int16_t)c;
    }
    /* The checkpoint's values are float16 already (matrix_record.h): the conversion is exact. */
    uint16_t *codebooks = rf_malloc((size_t)ncb * sizeof *codebooks);
    for (int64_t i = 0; i < ncb; i++) codebooks[i] = rf_f32_to_fp16(q->codebooks[i]);
    uint16_t *scales = rf_malloc((size_t)rows * sizeof *scales);
    for (int64_t i = 0; i < rows; i++) scales[i] = rf_f32_to_fp16(q->scales[i]);

    static const char *const suffix[3] = {"codes", "codebooks", "scales"};
    for (int k = 0; k < 3; k++) snprintf(names[k], RF_AQLM_HF_NAME_LEN, "%s.%s", name, suffix[k]);
    e[0] = (rf_st_entry){.name = names[0], .dtype = code_type, .ndim = 3,
                         .shape = {rows, groups, q->M}, .data = codes};
    e[1] = (rf_st_entry){.name = names[1], .dtype = RF_DTYPE_F16, .ndim = 4,
                         .shape = {q->M, q->K, q->og, q->ig}, .data = codebooks};
    e[2] = (rf_st_entry){.name = names[2], .dtype = RF_DTYPE_F16, .ndim = 4,
                         .shape = {rows, 1, 1, 1}, .data = scales};
}

/* Appends s to the array unless it is there already. */
static void append_once(json_t *list, const char *s) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return;
    json_array_append_new(list, json_string(s));
}

int rf_aqlm_hf_write_config(const char *model_dir, const char *out_dir, const rf_aqlm_config *cfg,
                            const char *const *not_quantized, int n) {
    char src[4096], path[4096], tmp[4200];
    snprintf(src, sizeof src, "%s/config.json", model_dir);
    json_t *c;
    if (rf_json_read_object(src, 0, &c) != RF_OK) return RF_ERR;
    json_t *keep = json_array();
    for (int i = 0; i < n; i++) {
        char module[RF_AQLM_HF_NAME_LEN];
        snprintf(module, sizeof module, "%s", not_quantized[i]);
        char *dot = strrchr(module, '.');
        if (dot && strcmp(dot, ".weight") == 0) *dot = '\0';
        append_once(keep, module);
        append_once(keep, not_quantized[i]);
    }
    append_once(keep, "lm_head");
    append_once(keep, "lm_head.weight");
    json_object_set_new(c, "quantization_config",
                        json_pack("{s:s, s:i, s:i, s:i, s:i, s:o}", "quant_method", "aqlm",
                                  "nbits_per_codebook", cfg->nbits_per_codebook, "num_codebooks",
                                  cfg->num_codebooks, "out_group_size", cfg->out_group_size,
                                  "in_group_size", cfg->in_group_size,
                                  "linear_weights_not_to_quantize", keep));
    /* Loading with the source's bfloat16 would round the float16 codebooks. */
    json_object_set_new(c, "torch_dtype", json_string("float16"));
    if (json_object_get(c, "dtype")) json_object_set_new(c, "dtype", json_string("float16"));

    snprintf(path, sizeof path, "%s/config.json", out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(c, tmp, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(c);
    if (rc != 0) return rf_fail("cannot write %s: %s", tmp, strerror(errno));
    return rf_atomic_commit(tmp, path);
}
