/* fuzz_hf_config.c -- libFuzzer harness: a model's config.json, read by rf_hf_config_read.
 *
 * Input: the file's bytes. Checks: a refusal is one line naming the file; an accepted file gives
 * what hf_config.h promises: counts that are non-negative, and the strings NUL-terminated
 * inside their fields; a file that is not a JSON object is never accepted (jansson reads the
 * input again here).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "io/hf_config.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("config.json", data, size);
    rf_hf_config c;
    if (rf_hf_config_read(fuzz_dir(), &c) != RF_OK) {
        fuzz_check_refusal(path);
        return 0;
    }
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    FUZZ_CHECK(json_is_object(root), "accepted a config.json that is not a JSON object");
    json_decref(root);
    const int counts[] = {c.num_hidden_layers, c.hidden_size, c.intermediate_size,
                          c.num_attention_heads, c.num_key_value_heads, c.head_dim,
                          c.vocab_size, c.vit_layers, c.vit_hidden_size, c.vit_intermediate_size};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        FUZZ_CHECK(counts[i] >= 0, "count %zu is %d", i, counts[i]);
    FUZZ_CHECK(memchr(c.model_type, 0, sizeof c.model_type) &&
                   memchr(c.architecture, 0, sizeof c.architecture),
               "model_type or architecture not terminated");
    return 0;
}
