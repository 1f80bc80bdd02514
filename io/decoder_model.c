/* decoder_model.c -- config.json and the safetensors of a Qwen3 / Qwen2 / Llama decoder, read for
 * kernels/decoder (decoder_model.h): the config's math checked field by field, every tensor's
 * shape checked at open, a layer's weights converted (or dequantized) when it runs. */
#include "io/decoder_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"
#include "io/h5_probe.h"
#include "io/hf_config.h"
#include "io/matrix_record.h"

static const char *const MATRIX[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                      "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                      "mlp.down_proj"};

/* The fields of config.json that decide the math, turned into the kernel's config. */
static int config_from_hf(const char *path, const rf_hf_config *h, rf_dec_model *m) {
    const char *type = h->llm_model_type[0] ? h->llm_model_type : h->model_type;
    snprintf(m->model_type, sizeof m->model_type, "%s", type);
    if (strcmp(type, "qwen3") && strcmp(type, "qwen2") && strcmp(type, "llama"))
        return rf_fail("%s: model_type '%s' is not a decoder riverforge runs (qwen3, qwen2, llama)",
                       path, type);
    if (h->hidden_act[0] && strcmp(h->hidden_act, "silu"))
        return rf_fail("%s: hidden_act '%s' is not supported (silu)", path, h->hidden_act);
    if (h->mlp_bias) return rf_fail("%s: mlp_bias true is not supported", path);
    if (h->use_sliding_window)
        return rf_fail("%s: use_sliding_window true or a layer_types entry other than "
                       "full_attention is not supported (full attention only)", path);
    rf_dec_config *c = &m->cfg;
    *c = (rf_dec_config){.hidden = h->hidden_size, .intermediate = h->intermediate_size,
                         .heads = h->num_attention_heads,
                         .kv_heads = h->num_key_value_heads ? h->num_key_value_heads
                                                            : h->num_attention_heads,
                         .vocab = h->vocab_size,
                         .rms_eps = h->rms_norm_eps > 0 ? h->rms_norm_eps : 1e-6,
                         .rope_theta = h->rope_theta > 0 ? h->rope_theta : 10000.0};
    m->nlayers = h->num_hidden_layers;
    const char *need[] = {"hidden_size", "intermediate_size", "num_attention_heads",
                          "num_hidden_layers", "vocab_size"};
    const int have[] = {c->hidden, c->intermediate, c->heads, m->nlayers, c->vocab};
    for (int i = 0; i < 5; i++)
        if (have[i] <= 0) return rf_fail("%s: %s is missing or 0", path, need[i]);
    c->head_dim = h->head_dim ? h->head_dim : c->hidden / c->heads;
    if (c->heads % c->kv_heads || c->head_dim % 2)
        return rf_fail("%s: num_attention_heads %d is not a multiple of num_key_value_heads %d, or "
                       "head_dim %d is odd", path, c->heads, c->kv_heads, c->head_dim);

    const char *rt = h->rope_type;
    if (!rt[0] || !strcmp(rt, "default")) {
        c->rope_kind = RF_ROPE_DEFAULT;
    } else if (!strcmp(rt, "linear") || !strcmp(rt, "llama3")) {
        c->rope_kind = rt[1] == 'i' ? RF_ROPE_LINEAR : RF_ROPE_LLAMA3;
        c->rope_factor = h->rope_factor;
        c->rope_low_freq = h->rope_low_freq_factor;
        c->rope_high_freq = h->rope_high_freq_factor;
        c->rope_orig_ctx = h->rope_original_max_pos;
        if (c->rope_factor <= 0)
            return rf_fail("%s: %s.factor is missing or not positive", path, h->rope_field);
        if (c->rope_kind == RF_ROPE_LLAMA3 &&
            (c->rope_low_freq <= 0 || c->rope_high_freq <= c->rope_low_freq || c->rope_orig_ctx <= 0))
            return rf_fail("%s: %s of rope_type llama3 needs low_freq_factor > 0, "
                           "high_freq_factor > low_freq_factor and original_max_position_embeddings",
                           path, h->rope_field);
    } else {
        return rf_fail("%s: %s.rope_type '%s' is not supported (default, linear, llama3)", path,
                       h->rope_field, rt);
    }
    m->qk_norm = !strcmp(type, "qwen3");
    return RF_OK;
}

/* The tensor PREFIX+NAME with shape [rows] (cols 0) or [rows, cols]; NULL when absent and
 * optional; NULL and *bad set when absent and required, or of another shape (the message is the
 * first problem's: a later one leaves it). */
static const rf_st_tensor *tensor(const rf_dec_model *m, const char *name, int64_t rows,
                                  int64_t cols, int optional, int *bad) {
    if (*bad) return NULL;
    char full[320];
    snprintf(full, sizeof full, "%s%s", m->prefix, name);
    const rf_st_tensor *t = rf_st_find(&m->st, full);
    if (!t) {
        if (!optional) *bad = rf_fail("%s: no tensor %s", m->st.paths[0], full);
        return NULL;
    }
    int ndim = cols ? 2 : 1;
    if (t->ndim != ndim || t->shape[0] != rows || (cols && t->shape[1] != cols)) {
        *bad = rf_fail("%s: tensor %s has shape [%lld%s%lld], config.json says [%lld%s%lld]",
                       m->st.paths[t->file_index], full, (long long)t->shape[0],
                       t->ndim > 1 ? ", " : "", t->ndim > 1 ? (long long)t->shape[1] : 0LL,
                       (long long)rows, cols ? ", " : "", (long long)cols);
        return NULL;
    }
    return t;
}

/* The layer's tensors in rf_dec_layer's order: 2 norms, 7 matrices, 4 biases, 2 head norms. */
enum { NT = 15 };
static void layer_tensors(const rf_dec_model *m, int L, const rf_st_tensor *t[NT], int *bad) {
    const rf_dec_config *c = &m->cfg;
    int64_t H = c->hidden, F = c->intermediate, qd = (int64_t)c->heads * c->head_dim,
            kd = (int64_t)c->kv_heads * c->head_dim;
    const int64_t shape[7][2] = {{qd, H}, {kd, H}, {kd, H}, {H, qd}, {F, H}, {F, H}, {H, F}};
    char name[256];
    snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", L);
    t[0] = tensor(m, name, H, 0, 0, bad);
    snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", L);
    t[1] = tensor(m, name, H, 0, 0, bad);
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "model.layers.%d.%s.weight", L, MATRIX[i]);
        t[2 + i] = tensor(m, name, shape[i][0], shape[i][1], 0, bad);
    }
    for (int i = 0; i < 4; i++) { /* q/k/v/o biases: Qwen2 has q/k/v, attention_bias all four */
        snprintf(name, sizeof name, "model.layers.%d.%s.bias", L, MATRIX[i]);
        t[9 + i] = tensor(m, name, shape[i][0], 0, 1, bad);
    }
    const char *norms[2] = {"q_norm", "k_norm"};
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "model.layers.%d.self_attn.%s.weight", L, norms[i]);
        t[13 + i] = tensor(m, name, c->head_dim, 0, !m->qk_norm, bad);
        if (t[13 + i] && !m->qk_norm && !*bad)
            *bad = rf_fail("%s: tensor %s%s belongs to no %s model (qwen3 has q/k norms)",
                           m->st.paths[0], m->prefix, name, m->model_type);
    }
}

static int check_checkpoint(rf_dec_model *m, const char *checkpoint) {
    if (rf_h5_probe(checkpoint, "/", 1) != RF_OK || rf_matrix_list(checkpoint, &m->qnames, &m->nq))
        return RF_ERR;
    for (int i = 0; i < m->nq; i++) {
        char full[320];
        snprintf(full, sizeof full, "%s.weight", m->qnames[i]);
        if (!rf_st_find(&m->st, full))
            return rf_fail("%s: /matrices/%s is no matrix of the model %s", checkpoint,
                           m->qnames[i], m->st.paths[0]);
    }
    m->checkpoint = checkpoint;
    return RF_OK;
}

int rf_dec_model_open(rf_dec_model *m, const char *dir, const char *checkpoint) {
    memset(m, 0, sizeof *m);
    rf_hf_config h;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (rf_hf_config_read(dir, &h) != RF_OK || config_from_hf(path, &h, m) != RF_OK) return RF_ERR;
    if (rf_st_open(&m->st, dir) != RF_OK) return RF_ERR;
    if (!rf_st_find(&m->st, "model.embed_tokens.weight") &&
        rf_st_find(&m->st, "language_model.model.embed_tokens.weight"))
        snprintf(m->prefix, sizeof m->prefix, "language_model.");
    const rf_dec_config *c = &m->cfg;
    int bad = 0;
    tensor(m, "model.embed_tokens.weight", c->vocab, c->hidden, 0, &bad);
    tensor(m, "model.norm.weight", c->hidden, 0, 0, &bad);
    const rf_st_tensor *head = tensor(m, "lm_head.weight", c->vocab, c->hidden, 1, &bad);
    m->tied = h.tie_word_embeddings >= 0 ? h.tie_word_embeddings : !head;
    if (!bad && !m->tied && !head)
        bad = rf_fail("%s: no tensor %slm_head.weight and tie_word_embeddings is false",
                      m->st.paths[0], m->prefix);
    for (int L = 0; L < m->nlayers && !bad; L++) {
        const rf_st_tensor *t[NT];
        layer_tensors(m, L, t, &bad);
    }
    if (!bad && checkpoint) bad = check_checkpoint(m, checkpoint);
    if (bad) {
        rf_dec_model_close(m);
        return RF_ERR;
    }
    return RF_OK;
}

void rf_dec_model_close(rf_dec_model *m) {
    rf_st_close(&m->st);
    if (m->qnames) rf_container_free_names(m->qnames, m->nq);
    m->qnames = NULL;
}

static float *to_f32(const rf_dec_model *m, const rf_st_tensor *t, int *rc) {
    float *out = rf_malloc((size_t)t->numel * sizeof(float));
    if (rf_st_to_f32(&m->st, t, out) != RF_OK) *rc = RF_ERR;
    return out;
}

int rf_dec_model_globals(const rf_dec_model *m, float **embed, float **final_norm, float **lm_head) {
    int bad = 0, rc = RF_OK;
    const rf_dec_config *c = &m->cfg;
    *embed = to_f32(m, tensor(m, "model.embed_tokens.weight", c->vocab, c->hidden, 0, &bad), &rc);
    *final_norm = to_f32(m, tensor(m, "model.norm.weight", c->hidden, 0, 0, &bad), &rc);
    if (lm_head)
        *lm_head = m->tied ? *embed
                           : to_f32(m, tensor(m, "lm_head.weight", c->vocab, c->hidden, 0, &bad),
                                    &rc);
    return rc;
}

static int is_quantized(const rf_dec_model *m, const char *name) {
    for (int i = 0; i < m->nq; i++)
        if (!strcmp(m->qnames[i], name)) return 1;
    return 0;
}

/* The AQLM matrix NAME of the checkpoint, dense [rows, cols]; NULL on RF_ERR. */
static float *dequantized(const rf_dec_model *m, const char *name, int64_t rows, int64_t cols) {
    rf_aqlm_matrix q;
    if (rf_matrix_read(m->checkpoint, name, &q, NULL, NULL, 0) != RF_OK) return NULL;
    float *w = NULL;
    if (q.out_features != rows || q.in_features != cols)
        rf_fail("%s: /matrices/%s is [%lld, %lld], the model's matrix [%lld, %lld]", m->checkpoint,
                name, (long long)q.out_features, (long long)q.in_features, (long long)rows,
                (long long)cols);
    else
        rf_aqlm_dequantize(&q, w = rf_malloc((size_t)(rows * cols) * sizeof(float)));
    rf_aqlm_free(&q);
    return w;
}

int rf_dec_model_layer_load(const rf_dec_model *m, int layer, rf_dec_model_layer *out) {
    memset(out, 0, sizeof *out);
    const rf_st_tensor *t[NT];
    int bad = 0, rc = RF_OK;
    layer_tensors(m, layer, t, &bad);
    rf_check(!bad, "layer %d's tensors were checked at open: %s", layer, rf_last_error());
    char names[7][256];
    rf_dec_model_matrix_names(m, layer, names);
    float *f[NT] = {0};
    for (int i = 0; i < NT && rc == RF_OK; i++) {
        if (!t[i]) continue;
        if (i >= 2 && i < 9 && m->checkpoint && is_quantized(m, names[i - 2])) {
            f[i] = dequantized(m, names[i - 2], t[i]->shape[0], t[i]->shape[1]);
            rc = f[i] ? RF_OK : RF_ERR;
            out->nquantized += f[i] != NULL;
        } else {
            f[i] = to_f32(m, t[i], &rc);
        }
        if (f[i]) out->bufs[out->nbufs++] = f[i];
    }
    out->w = (rf_dec_layer){.input_norm = f[0], .post_norm = f[1], .wq = f[2], .wk = f[3],
                            .wv = f[4], .wo = f[5], .wg = f[6], .wu = f[7], .wd = f[8],
                            .bq = f[9], .bk = f[10], .bv = f[11], .bo = f[12], .q_norm = f[13],
                            .k_norm = f[14]};
    if (rc != RF_OK) rf_dec_model_layer_free(out);
    return rc;
}

void rf_dec_model_layer_free(rf_dec_model_layer *l) {
    for (int i = 0; i < l->nbufs; i++) free(l->bufs[i]);
    l->nbufs = 0;
}

void rf_dec_model_matrix_names(const rf_dec_model *m, int layer, char names[7][256]) {
    for (int i = 0; i < 7; i++)
        snprintf(names[i], 256, "%smodel.layers.%d.%s", m->prefix, layer, MATRIX[i]);
}
