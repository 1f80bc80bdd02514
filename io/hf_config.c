/* hf_config.c -- read the model dimensions riverforge needs from a Hugging Face config.json.
 *
 *   Qwen3:    {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
 *              "hidden_size": ..., "num_hidden_layers": ..., ...}
 *   InternVL: {"model_type": "internvl_chat", "architectures": [...],
 *              "llm_config": {"hidden_size": ..., ...}, "vision_config": {"hidden_size": ..., ...}}
 *   others:   the language model under "text_config" instead of "llm_config".
 * model_type and architectures are always the top-level ones: they name the checkpoint as a whole.
 * Every error is a user error that names the file and the field as a dotted path
 * ("DIR/config.json: llm_config.hidden_size is \"2560\", not a non-negative integer"); a JSON
 * syntax error gives its line and column (io/json_file.h).
 */
#include "io/hf_config.h"

#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/json_file.h"

/* "PATH: SECTIONKEY is VALUE, not WANT", VALUE as JSON (shortened), for a field of the wrong type. */
static int fail_field(const char *path, const char *section, const char *key, const json_t *v,
                      const char *want) {
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const int n = text ? (int)strlen(text) : 0;
    rf_fail("%s: %s%s is %.60s%s, not %s", path, section, key, text ? text : "?",
            n > 60 ? "..." : "", want);
    free(text);
    return RF_ERR;
}

/* obj[key] as an int: 0 when absent or null (transformers writes "head_dim": null), RF_ERR when it
 * is something else than an integer that fits. */
static int get_int(const char *path, const char *section, const json_t *obj, const char *key,
                   int *out) {
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
        return fail_field(path, section, key, v, "a non-negative integer");
    *out = (int)json_integer_value(v);
    return RF_OK;
}

/* obj[key] as a string: "" when absent or null, RF_ERR when it is something else. */
static int get_string(const char *path, const json_t *obj, const char *key, char *out,
                      size_t len) {
    const json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_string(v)) return fail_field(path, "", key, v, "a string");
    snprintf(out, len, "%s", json_string_value(v));
    return RF_OK;
}

/* architectures[0]: "" when the list is absent, null or empty; RF_ERR when it is not a list of
 * strings. */
static int get_architecture(const char *path, const json_t *root, char *out, size_t len) {
    const json_t *v = json_object_get(root, "architectures");
    out[0] = '\0';
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_array(v)) return fail_field(path, "", "architectures", v, "a list of strings");
    if (json_array_size(v) == 0) return RF_OK;
    if (!json_is_string(json_array_get(v, 0)))
        return fail_field(path, "", "architectures[0]", json_array_get(v, 0), "a string");
    snprintf(out, len, "%s", json_string_value(json_array_get(v, 0)));
    return RF_OK;
}

/* root[key] as a section: *out NULL when absent or null, RF_ERR when it is not an object. */
static int get_section(const char *path, const json_t *root, const char *key,
                       const json_t **out) {
    const json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_object(v)) return fail_field(path, "", key, v, "an object");
    *out = v;
    return RF_OK;
}

/* obj[key] as a number: 0 when absent or null, RF_ERR when it is not a number. */
static int get_double(const char *path, const char *section, const json_t *obj, const char *key,
                      double *out) {
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_number(v)) return fail_field(path, section, key, v, "a number");
    *out = json_number_value(v);
    return RF_OK;
}

/* obj[key] as a boolean: absent_value when absent or null, RF_ERR when it is not a boolean. */
static int get_bool(const char *path, const char *section, const json_t *obj, const char *key,
                    int absent_value, int *out) {
    const json_t *v = json_object_get(obj, key);
    *out = absent_value;
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_boolean(v)) return fail_field(path, section, key, v, "true or false");
    *out = json_is_true(v);
    return RF_OK;
}

/* The fields that decide the forward pass's math (rope_scaling may be null or absent). */
static int read_math(const char *path, const char *section, const json_t *llm, rf_hf_config *c) {
    if (get_string(path, llm, "model_type", c->llm_model_type, sizeof c->llm_model_type) ||
        get_string(path, llm, "hidden_act", c->hidden_act, sizeof c->hidden_act) ||
        get_double(path, section, llm, "rms_norm_eps", &c->rms_norm_eps) ||
        get_double(path, section, llm, "rope_theta", &c->rope_theta) ||
        get_bool(path, section, llm, "tie_word_embeddings", -1, &c->tie_word_embeddings) ||
        get_bool(path, section, llm, "attention_bias", 0, &c->attention_bias) ||
        get_bool(path, section, llm, "mlp_bias", 0, &c->mlp_bias) ||
        get_bool(path, section, llm, "use_sliding_window", 0, &c->use_sliding_window))
        return RF_ERR;
    const json_t *lt = json_object_get(llm, "layer_types"), *v;
    size_t i;
    json_array_foreach(lt, i, v) if (json_is_string(v) && strcmp(json_string_value(v), "full_attention"))
        c->use_sliding_window = 1;
    /* transformers 5 writes rope_parameters {rope_theta, rope_type, factor, ...}; 4.x wrote
     * rope_theta beside rope_scaling {rope_type or type, factor, ...} */
    const char *key = json_is_object(json_object_get(llm, "rope_parameters")) ? "rope_parameters"
                                                                              : "rope_scaling";
    snprintf(c->rope_field, sizeof c->rope_field, "%s", key);
    const json_t *rs = json_object_get(llm, key);
    if (!rs || json_is_null(rs)) return RF_OK;
    char sec[96];
    snprintf(sec, sizeof sec, "%s%s.", section, key);
    if (!json_is_object(rs)) return fail_field(path, section, key, rs, "an object");
    if (json_object_get(rs, "rope_theta") && get_double(path, sec, rs, "rope_theta", &c->rope_theta))
        return RF_ERR;
    const char *type = json_object_get(rs, "rope_type") ? "rope_type" : "type";
    return get_string(path, rs, type, c->rope_type, sizeof c->rope_type) ||
                   get_double(path, sec, rs, "factor", &c->rope_factor) ||
                   get_double(path, sec, rs, "low_freq_factor", &c->rope_low_freq_factor) ||
                   get_double(path, sec, rs, "high_freq_factor", &c->rope_high_freq_factor) ||
                   get_double(path, sec, rs, "original_max_position_embeddings",
                              &c->rope_original_max_pos)
               ? RF_ERR
               : RF_OK;
}

static int read_llm(const char *path, const char *section, const json_t *llm, rf_hf_config *c) {
    if (get_int(path, section, llm, "num_hidden_layers", &c->num_hidden_layers) ||
        get_int(path, section, llm, "hidden_size", &c->hidden_size) ||
        get_int(path, section, llm, "intermediate_size", &c->intermediate_size) ||
        get_int(path, section, llm, "num_attention_heads", &c->num_attention_heads) ||
        get_int(path, section, llm, "num_key_value_heads", &c->num_key_value_heads) ||
        get_int(path, section, llm, "head_dim", &c->head_dim) ||
        get_int(path, section, llm, "vocab_size", &c->vocab_size))
        return RF_ERR;
    return read_math(path, section, llm, c);
}

static int read_vision(const char *path, const json_t *vit, rf_hf_config *c) {
    if (get_int(path, "vision_config.", vit, "num_hidden_layers", &c->vit_layers) ||
        get_int(path, "vision_config.", vit, "hidden_size", &c->vit_hidden_size) ||
        get_int(path, "vision_config.", vit, "intermediate_size", &c->vit_intermediate_size))
        return RF_ERR;
    return RF_OK;
}

int rf_hf_config_read(const char *dir, rf_hf_config *c) {
    memset(c, 0, sizeof *c);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *root;
    if (rf_json_read_object(path, 0, &root) != RF_OK) return RF_ERR;

    const json_t *llm_config, *text_config, *vit;
    int rc = RF_OK;
    if (get_string(path, root, "model_type", c->model_type, sizeof c->model_type) ||
        get_architecture(path, root, c->architecture, sizeof c->architecture) ||
        get_section(path, root, "llm_config", &llm_config) ||
        get_section(path, root, "text_config", &text_config) ||
        get_section(path, root, "vision_config", &vit)) {
        rc = RF_ERR;
        goto done;
    }
    const json_t *llm = root;
    const char *section = "";
    if (llm_config) {
        llm = llm_config;
        section = "llm_config.";
    } else if (text_config) {
        llm = text_config;
        section = "text_config.";
    }
    rc = read_llm(path, section, llm, c);
    if (rc == RF_OK && vit) rc = read_vision(path, vit, c);
done:
    json_decref(root);
    return rc;
}
