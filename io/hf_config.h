/* hf_config.h -- the parts of a Hugging Face config.json that riverforge uses.
 * Accepts a plain language model (Qwen3: top-level keys) and VLM wrappers that nest the language
 * model's config under "llm_config" (InternVL) or "text_config"; a vision tower under
 * "vision_config" is read when present. Missing keys are 0. */
#ifndef RF_HF_CONFIG_H
#define RF_HF_CONFIG_H

typedef struct {
    char model_type[64];        /* "qwen3", "internvl_chat", ... */
    char architecture[128];     /* architectures[0] */
    int num_hidden_layers;
    int hidden_size;
    int intermediate_size;
    int num_attention_heads;
    int num_key_value_heads;
    int head_dim;
    int vocab_size;
    /* the math of the language model's forward pass (io/decoder_model.h checks them) */
    char llm_model_type[64];    /* the language model's own model_type ("qwen3" inside InternVL) */
    char hidden_act[32];
    double rms_norm_eps;        /* 0 when absent */
    double rope_theta;          /* 0 when absent */
    int tie_word_embeddings;    /* -1 when absent */
    int attention_bias, mlp_bias; /* 0 when absent */
    int use_sliding_window;     /* use_sliding_window, or a layer_types entry other than full */
    /* rope_parameters (transformers 5) or rope_scaling (4.x; rope_type "" when absent or null,
     * "type" its older spelling) */
    char rope_field[32];        /* "rope_parameters" or "rope_scaling": the key read, for messages */
    char rope_type[32];
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor, rope_original_max_pos;
    /* vision tower (0 when absent) */
    int vit_layers;
    int vit_hidden_size;
    int vit_intermediate_size;
} rf_hf_config;

/* Reads DIR/config.json (a regular file: a FIFO is refused, never waited on). RF_ERR with one
 * line naming the file: it is missing or unreadable, its JSON is malformed (line and column), or
 * a field riverforge reads has the wrong type (named as a dotted path: llm_config.hidden_size). */
int rf_hf_config_read(const char *dir, rf_hf_config *c);

#endif
