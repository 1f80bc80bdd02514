/* hf_config.c -- read the model dimensions riverforge needs from a Hugging Face config.json.
 *
 *   Qwen3:    {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
 *              "hidden_size": ..., "num_hidden_layers": ..., ...}
 *   InternVL: {"model_type": "internvl_chat", "architectures": [...],
 *              "llm_config": {"hidden_size": ..., ...}, "vision_config": {"hidden_size": ..., ...}}
 *   others:   the language model under "text_config" instead of "llm_config".
 * model_type and architectures are always the top-level ones: they name the checkpoint as a whole.
 */
#include "io/hf_config.h"

#include <errno.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/rf_error.h"

/* obj[key] as an int: 0 when absent or null (transformers writes "head_dim": null), RF_ERR when it
 * is something else than an integer that fits. */
static int get_int(const char *path, const char *section, const json_t *obj, const char *key,
                   int *out) {
    const json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v || json_is_null(v)) return RF_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
        return rf_fail("%s: %s%s is not a non-negative integer", path, section, key);
    *out = (int)json_integer_value(v);
    return RF_OK;
}

static void get_string(const json_t *v, char *out, size_t len) {
    snprintf(out, len, "%s", json_is_string(v) ? json_string_value(v) : "");
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
    return RF_OK;
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
    FILE *f = fopen(path, "rb");
    if (!f) return rf_fail("%s: cannot open: %s", path, strerror(errno));
    json_error_t jerr;
    json_t *root = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!root)
        return rf_fail("%s: malformed JSON at line %d column %d: %s", path, jerr.line, jerr.column,
                       jerr.text);

    int rc = RF_OK;
    if (!json_is_object(root)) {
        rc = rf_fail("%s: not a JSON object", path);
        goto done;
    }
    get_string(json_object_get(root, "model_type"), c->model_type, sizeof c->model_type);
    get_string(json_array_get(json_object_get(root, "architectures"), 0), c->architecture,
               sizeof c->architecture);

    const json_t *llm = root;
    const char *section = "";
    if (json_is_object(json_object_get(root, "llm_config"))) {
        llm = json_object_get(root, "llm_config");
        section = "llm_config.";
    } else if (json_is_object(json_object_get(root, "text_config"))) {
        llm = json_object_get(root, "text_config");
        section = "text_config.";
    }
    rc = read_llm(path, section, llm, c);
    const json_t *vit = json_object_get(root, "vision_config");
    if (rc == RF_OK && json_is_object(vit)) rc = read_vision(path, vit, c);
done:
    json_decref(root);
    return rc;
}
