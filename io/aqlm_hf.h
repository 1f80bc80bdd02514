/* aqlm_hf.h -- the aqlm-hf layout: a quantized model as Hugging Face transformers loads it with
 * its AQLM integration (the aqlm package's QuantizedLinear), docs/formats.md.
 *
 * Per quantized linear NAME (NAME.weight in the source model), in safetensors:
 *   NAME.codes      I8 when nbits <= 8, else I16   [out/og, in/ig, M]: the unsigned code c stored
 *                   as c - 2^nbits when c >= 2^(nbits-1) (aqlm reads it back modulo 2^nbits)
 *   NAME.codebooks  F16 [M, K, og, ig]
 *   NAME.scales     F16 [out/og, 1, 1, 1]
 * and in config.json (the source model's, otherwise unchanged except its dtype, float16 like the
 * codebooks):
 *   "quantization_config": {"quant_method": "aqlm", "nbits_per_codebook", "num_codebooks",
 *                           "out_group_size", "in_group_size", "linear_weights_not_to_quantize"}
 * One configuration per model: transformers builds every linear from it.
 */
#ifndef RF_AQLM_HF_H
#define RF_AQLM_HF_H

#include <stdint.h>

#include "io/safetensors.h"
#include "kernels/aqlm/aqlm.h"

#define RF_AQLM_HF_NAME_LEN 320

/* The signed integer that stores code c of an nbits-bit codebook. */
static inline int32_t rf_aqlm_hf_code(uint32_t c, int nbits) {
    return c >= (1u << (nbits - 1)) ? (int32_t)c - (int32_t)(1u << nbits) : (int32_t)c;
}

/* The three tensors of matrix NAME: e[0] codes, e[1] codebooks, e[2] scales, named into names.
 * Each e[i].data is malloc'd (free it, or hand it to rf_st_shards_add as owned). */
void rf_aqlm_hf_entries(const char *name, const rf_aqlm_matrix *q, rf_st_entry e[3],
                        char names[3][RF_AQLM_HF_NAME_LEN]);

/* Writes OUT_DIR/config.json (atomically): MODEL_DIR/config.json with the quantization_config of
 * cfg (its num_codebooks, nbits_per_codebook, in_group_size, out_group_size) and "torch_dtype" (and "dtype" when present) float16. not_quantized lists the
 * model's linear weights that stay dense, as tensor names ("lm_head.weight"); each goes into
 * linear_weights_not_to_quantize in both spellings transformers has used, the weight's name
 * (4.x) and the module's ("lm_head", 5.x), and so does lm_head always, since a tied lm_head has
 * no tensor of its own. RF_ERR naming the file when the source config is missing or not a JSON
 * object. */
int rf_aqlm_hf_write_config(const char *model_dir, const char *out_dir, const rf_aqlm_config *cfg,
                            const char *const *not_quantized, int n);

#endif
