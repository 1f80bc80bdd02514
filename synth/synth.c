/* synth.c -- writes the synthetic Qwen3-style model described in synth.h. */
#include "synth/synth.h"

#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rf_error.h"
#include "common/rf_half.h"
#include "common/rf_rng.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "io/xtx_file.h"
#include "synth/synth_tokenizer.h"

#define LOW_RANK 8

rf_synth_spec rf_synth_default(void) {
    return (rf_synth_spec){.layers = 2, .hidden = 256, .intermediate = 512, .heads = 4,
                           .kv_heads = 2, .head_dim = 64, .vocab = 1024, .shards = 1,
                           .calib_tokens = 2048, .seed = 0};
}

rf_synth_spec rf_synth_embedded(void) {
    rf_synth_spec s = rf_synth_default();
    s.vit_blocks = 4;
    s.vit_hidden = 64;
    s.vit_mlp = 256;
    return s;
}

rf_synth_spec rf_synth_preset_qwen3_4b(void) {
    return (rf_synth_spec){.layers = 36, .hidden = 2560, .intermediate = 9728, .heads = 32,
                           .kv_heads = 8, .head_dim = 128, .vocab = 151936, .shards = 0,
                           .calib_tokens = 4096, .seed = 0};
}

int rf_synth_files(const rf_synth_spec *s) {
    if (s->shards > 0) return s->shards;
    return (s->layers + RF_SYNTH_LAYERS_PER_FILE - 1) / RF_SYNTH_LAYERS_PER_FILE;
}

int rf_synth_check(const rf_synth_spec *s) {
    const struct { const char *flag; int value; } positive[] = {
        {"--layers", s->layers},   {"--hidden", s->hidden},     {"--intermediate", s->intermediate},
        {"--heads", s->heads},     {"--kv-heads", s->kv_heads}, {"--head-dim", s->head_dim},
        {"--vocab", s->vocab},     {"--calib-tokens", s->calib_tokens},
    };
    for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++)
        if (positive[i].value <= 0) return rf_fail("%s must be positive", positive[i].flag);
    if (s->vit_blocks < 0 || (s->vit_blocks > 0 && (s->vit_hidden <= 0 || s->vit_mlp <= 0)))
        return rf_fail("--vit-blocks %d needs a positive --vit-hidden and --vit-mlp", s->vit_blocks);
    if (s->heads % s->kv_heads)
        return rf_fail("--heads %d is not a multiple of --kv-heads %d", s->heads, s->kv_heads);
    if (s->shards < 0)
        return rf_fail("--shards %d: must be positive (0: one file per %d layers)", s->shards,
                       RF_SYNTH_LAYERS_PER_FILE);
    if (s->shards > s->layers) /* each file holds whole layers, at least one */
        return rf_fail("--shards %d is more than --layers %d: each file holds at least one layer",
                       s->shards, s->layers);
    /* xtx.h5 is built in memory (the matrices, then the file image): refuse what cannot fit */
    double q = (double)s->heads * s->head_dim;
    double per_layer = 8.0 * (2.0 * s->hidden * s->hidden + q * q + (double)s->intermediate * s->intermediate);
    double need = 2 * per_layer * s->layers, have = (double)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    if (need > 0.8 * have)
        return rf_fail("xtx.h5 for %d layers needs about %.1f GB of memory (%.2f GB per layer), this "
                       "machine has %.1f GB: use --layers %d or fewer",
                       s->layers, need * 1e-9, 2 * per_layer * 1e-9, have * 1e-9,
                       (int)(0.8 * have / (2 * per_layer)));
    return RF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Tensors */

typedef struct {
    char name[160];
    int ndim;
    int64_t shape[2];
    uint16_t *bf16;
} synth_tensor;

static void fill_bf16(uint16_t *dst, const float *src, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = rf_f32_to_bf16(src[i]);
}

/* W [out, in] = diag(r) G / sqrt(in) + U V^T / sqrt(in), r ~ lognormal(0, 0.5). */
static void make_linear(rf_rng *rng, int64_t out, int64_t in, synth_tensor *t) {
    float *w = rf_malloc((size_t)(out * in) * sizeof *w);
    float *u = rf_malloc((size_t)(out * LOW_RANK) * sizeof *u);
    float *v = rf_malloc((size_t)(in * LOW_RANK) * sizeof *v);
    double inv = 1.0 / sqrt((double)in);
    for (int64_t i = 0; i < out * LOW_RANK; i++) u[i] = (float)(0.5 * rf_rng_normal(rng));
    for (int64_t i = 0; i < in * LOW_RANK; i++) v[i] = (float)rf_rng_normal(rng);
    for (int64_t o = 0; o < out; o++) {
        double r = exp(0.5 * rf_rng_normal(rng));
        for (int64_t i = 0; i < in; i++) w[o * in + i] = (float)(r * inv * rf_rng_normal(rng));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)out, (int)in, LOW_RANK, (float)inv,
                u, LOW_RANK, v, LOW_RANK, 1.0f, w, (int)in);
    t->ndim = 2;
    t->shape[0] = out;
    t->shape[1] = in;
    t->bf16 = rf_malloc((size_t)(out * in) * sizeof *t->bf16);
    fill_bf16(t->bf16, w, out * in);
    free(w);
    free(u);
    free(v);
}

/* A norm weight [n] near 1, or an embedding-like [n0, n1] matrix of N(0, 0.02). */
static void make_vector_like(rf_rng *rng, int ndim, int64_t n0, int64_t n1, double mean,
                             double stddev, synth_tensor *t) {
    int64_t n = ndim == 1 ? n0 : n0 * n1;
    t->ndim = ndim;
    t->shape[0] = n0;
    t->shape[1] = n1;
    t->bf16 = rf_malloc((size_t)n * sizeof *t->bf16);
    for (int64_t i = 0; i < n; i++) t->bf16[i] = rf_f32_to_bf16((float)(mean + stddev * rf_rng_normal(rng)));
}

/* The seven linear matrices of a layer, in Hugging Face's order, with the XTX input they read. */
enum { IN_ATTN, IN_ATTN_OUT, IN_MLP, IN_MLP_ACT, NUM_INPUTS };
static const struct {
    const char *suffix;
    int input;
} LINEARS[7] = {
    {"self_attn.q_proj", IN_ATTN}, {"self_attn.k_proj", IN_ATTN}, {"self_attn.v_proj", IN_ATTN},
    {"self_attn.o_proj", IN_ATTN_OUT}, {"mlp.gate_proj", IN_MLP}, {"mlp.up_proj", IN_MLP},
    {"mlp.down_proj", IN_MLP_ACT},
};

static void linear_shape(const rf_synth_spec *s, int j, int64_t *out, int64_t *in) {
    int64_t q = (int64_t)s->heads * s->head_dim, kv = (int64_t)s->kv_heads * s->head_dim;
    const int64_t shapes[7][2] = {{q, s->hidden}, {kv, s->hidden}, {kv, s->hidden}, {s->hidden, q},
                                  {s->intermediate, s->hidden}, {s->intermediate, s->hidden},
                                  {s->hidden, s->intermediate}};
    *out = shapes[j][0];
    *in = shapes[j][1];
}

/* Every tensor of layer L (norms included), appended to list. Each tensor's values come from a
 * generator seeded by its name, so shards and layer order do not change them. */
static int make_layer(const rf_synth_spec *s, int layer, synth_tensor *list) {
    int n = 0;
    const char *norms[2] = {"input_layernorm", "post_attention_layernorm"};
    for (int j = 0; j < 7; j++, n++) {
        snprintf(list[n].name, sizeof list[n].name, "model.layers.%d.%s.weight", layer, LINEARS[j].suffix);
        rf_rng rng;
        rf_rng_init(&rng, rf_task_seed(s->seed, list[n].name));
        int64_t out, in;
        linear_shape(s, j, &out, &in);
        make_linear(&rng, out, in, &list[n]);
    }
    for (int j = 0; j < 4; j++, n++) {
        if (j < 2) snprintf(list[n].name, sizeof list[n].name, "model.layers.%d.%s.weight", layer, norms[j]);
        else snprintf(list[n].name, sizeof list[n].name, "model.layers.%d.self_attn.%s_norm.weight", layer, j == 2 ? "q" : "k");
        rf_rng rng;
        rf_rng_init(&rng, rf_task_seed(s->seed, list[n].name));
        make_vector_like(&rng, 1, j < 2 ? s->hidden : s->head_dim, 0, 1.0, 0.05, &list[n]);
    }
    return n;
}

#define LAYER_TENSORS 11
#define VIT_BLOCK_TENSORS 16

/* The linear modules of a vision block and their shapes, per naming style. */
typedef struct {
    const char *module;
    int out_mult, out_mlp, in_mlp; /* rows: out_mult x (vit_mlp if out_mlp else vit_hidden) */
} vit_linear;

static const vit_linear SIGLIP_LINEAR[6] = {
    {"self_attn.q_proj", 1, 0, 0}, {"self_attn.k_proj", 1, 0, 0}, {"self_attn.v_proj", 1, 0, 0},
    {"self_attn.out_proj", 1, 0, 0}, {"mlp.fc1", 1, 1, 0}, {"mlp.fc2", 1, 0, 1}};
static const vit_linear INTERNVIT_LINEAR[4] = {
    {"attn.qkv", 3, 0, 0}, {"attn.proj", 1, 0, 0}, {"mlp.fc1", 1, 1, 0}, {"mlp.fc2", 1, 0, 1}};

/* One vision block's tensors (SigLIP or InternViT names), appended to list. */
static int make_vit_block(const rf_synth_spec *s, int block, synth_tensor *list) {
    int internvit = s->vit_style == RF_VIT_INTERNVIT;
    const vit_linear *linear = internvit ? INTERNVIT_LINEAR : SIGLIP_LINEAR;
    int nlinear = internvit ? 4 : 6;
    int n = 0;
    for (int j = 0; j < nlinear; j++) {
        int64_t out = (int64_t)linear[j].out_mult * (linear[j].out_mlp ? s->vit_mlp : s->vit_hidden);
        int64_t in = linear[j].in_mlp ? s->vit_mlp : s->vit_hidden;
        char shared_name[160];
        snprintf(shared_name, sizeof shared_name, "vision_model.encoder.layers.*.%s.weight", linear[j].module);
        snprintf(list[n].name, sizeof list[n].name, "vision_model.encoder.layers.%d.%s.weight", block, linear[j].module);
        synth_tensor shared = {0}, own = {0};
        rf_rng rng;
        rf_rng_init(&rng, rf_task_seed(s->seed, shared_name));
        make_linear(&rng, out, in, &shared);
        rf_rng_init(&rng, rf_task_seed(s->seed, list[n].name));
        make_linear(&rng, out, in, &own);
        list[n].ndim = 2;
        list[n].shape[0] = out;
        list[n].shape[1] = in;
        list[n].bf16 = own.bf16; /* 0.8 shared + 0.6 own, rounded once more to bf16 */
        for (int64_t i = 0; i < out * in; i++)
            own.bf16[i] = rf_f32_to_bf16(0.8f * rf_bf16_to_f32(shared.bf16[i]) + 0.6f * rf_bf16_to_f32(own.bf16[i]));
        free(shared.bf16);
        n++;
        snprintf(list[n].name, sizeof list[n].name, "vision_model.encoder.layers.%d.%s.bias", block, linear[j].module);
        rf_rng_init(&rng, rf_task_seed(s->seed, list[n].name));
        make_vector_like(&rng, 1, out, 0, 0.0, 0.02, &list[n++]);
    }
    for (int j = 0; j < 4; j++, n++) {
        if (internvit)
            snprintf(list[n].name, sizeof list[n].name, "vision_model.encoder.layers.%d.norm%d.%s",
                     block, 1 + j / 2, j % 2 ? "bias" : "weight");
        else
            snprintf(list[n].name, sizeof list[n].name, "vision_model.encoder.layers.%d.layer_norm%d.%s",
                     block, 1 + j / 2, j % 2 ? "bias" : "weight");
        rf_rng rng;
        rf_rng_init(&rng, rf_task_seed(s->seed, list[n].name));
        make_vector_like(&rng, 1, s->vit_hidden, 0, j % 2 ? 0.0 : 1.0, 0.05, &list[n]);
    }
    return n;
}

static int write_shard(const char *path, synth_tensor *t, int n) {
    rf_st_entry *e = rf_calloc((size_t)n, sizeof *e);
    for (int i = 0; i < n; i++) {
        e[i] = (rf_st_entry){.name = t[i].name, .dtype = RF_DTYPE_BF16, .ndim = t[i].ndim, .data = t[i].bf16};
        e[i].shape[0] = t[i].shape[0];
        e[i].shape[1] = t[i].shape[1];
    }
    int rc = rf_st_write(path, e, n);
    free(e);
    return rc;
}

static int64_t tensor_bytes(const synth_tensor *t) {
    return 2 * t->shape[0] * (t->ndim == 2 ? t->shape[1] : 1);
}

/* Writes the safetensors files (and the index when sharded): layers split evenly over shards,
 * the embedding in the first, the final norm in the last. */
static int write_weights(const char *dir, const rf_synth_spec *s) {
    int nfiles = rf_synth_files(s);
    int max_tensors = LAYER_TENSORS * s->layers + VIT_BLOCK_TENSORS * s->vit_blocks + 2;
    char **tensor_names = rf_calloc((size_t)max_tensors, sizeof *tensor_names);
    char **file_names = rf_calloc((size_t)max_tensors, sizeof *file_names);
    int nnames = 0, rc = RF_OK;
    uint64_t total = 0;
    for (int sh = 0; sh < nfiles && rc == RF_OK; sh++) {
        int first = (int)((int64_t)s->layers * sh / nfiles);
        int last = (int)((int64_t)s->layers * (sh + 1) / nfiles);
        int vit = sh == 0 ? s->vit_blocks : 0; /* the vision tower goes into the first file */
        synth_tensor *t = rf_calloc((size_t)(LAYER_TENSORS * (last - first) + VIT_BLOCK_TENSORS * vit + 2), sizeof *t);
        int n = 0;
        for (int b = 0; b < vit; b++) n += make_vit_block(s, b, t + n);
        if (sh == 0) {
            snprintf(t[n].name, sizeof t[n].name, "model.embed_tokens.weight");
            rf_rng rng;
            rf_rng_init(&rng, rf_task_seed(s->seed, t[n].name));
            make_vector_like(&rng, 2, s->vocab, s->hidden, 0.0, 0.02, &t[n++]);
        }
        for (int l = first; l < last; l++) n += make_layer(s, l, t + n);
        if (sh == nfiles - 1) {
            snprintf(t[n].name, sizeof t[n].name, "model.norm.weight");
            rf_rng rng;
            rf_rng_init(&rng, rf_task_seed(s->seed, t[n].name));
            make_vector_like(&rng, 1, s->hidden, 0, 1.0, 0.05, &t[n++]);
        }
        char file[64], path[4096];
        if (nfiles == 1) snprintf(file, sizeof file, "model.safetensors");
        else snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", sh + 1, nfiles);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        rc = write_shard(path, t, n);
        for (int i = 0; i < n; i++) {
            tensor_names[nnames] = rf_strdup(t[i].name);
            file_names[nnames++] = rf_strdup(file);
            total += (uint64_t)tensor_bytes(&t[i]);
            free(t[i].bf16);
        }
        free(t);
    }
    if (rc == RF_OK && nfiles > 1)
        rc = rf_st_write_index(dir, nnames, (const char *const *)tensor_names,
                               (const char *const *)file_names, total);
    for (int i = 0; i < nnames; i++) {
        free(tensor_names[i]);
        free(file_names[i]);
    }
    free(tensor_names);
    free(file_names);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Calibration statistics */

/* One token's Student-t(4) sample: N(0,1) / sqrt(chi2_4 / 4). */
static double student_t4(rf_rng *rng) {
    double chi2 = 0;
    for (int k = 0; k < 4; k++) {
        double z = rf_rng_normal(rng);
        chi2 += z * z;
    }
    return rf_rng_normal(rng) / sqrt(chi2 / 4.0 + 1e-12);
}

/* XTX [d, d] (float64) = X^T X / N for N synthetic activation rows of width d. */
static void make_xtx(rf_rng *rng, int64_t n_tokens, int64_t d, double *xtx) {
    double *x = rf_malloc((size_t)(n_tokens * d) * sizeof *x);
    double *scale = rf_malloc((size_t)d * sizeof *scale);
    double *load = rf_malloc((size_t)(LOW_RANK * d) * sizeof *load);
    for (int64_t j = 0; j < d; j++) scale[j] = exp(0.5 * rf_rng_normal(rng));
    int64_t outliers = d / 256 > 0 ? d / 256 : 1;
    for (int64_t k = 0; k < outliers; k++) scale[rf_rng_below(rng, (uint64_t)d)] *= 50.0;
    for (int64_t i = 0; i < LOW_RANK * d; i++) load[i] = 0.5 * rf_rng_normal(rng);
    for (int64_t t = 0; t < n_tokens; t++) {
        double f[LOW_RANK];
        for (int k = 0; k < LOW_RANK; k++) f[k] = rf_rng_normal(rng);
        double *row = x + t * d;
        for (int64_t j = 0; j < d; j++) {
            double shared = 0;
            for (int k = 0; k < LOW_RANK; k++) shared += f[k] * load[k * d + j];
            row[j] = scale[j] * (student_t4(rng) + shared);
        }
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n_tokens, 1.0 / (double)n_tokens,
                x, (int)d, 0.0, xtx, (int)d);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < i; j++) xtx[i * d + j] = xtx[j * d + i];
    free(x);
    free(scale);
    free(load);
}

static int write_xtx(const char *dir, const rf_synth_spec *s) {
    int n = 7 * s->layers;
    char **names = rf_calloc((size_t)n, sizeof *names);
    const double **mats = rf_calloc((size_t)n, sizeof *mats);
    double **inputs = rf_calloc((size_t)(NUM_INPUTS * s->layers), sizeof *inputs);
    int64_t *in = rf_calloc((size_t)n, sizeof *in);
    for (int l = 0; l < s->layers; l++) {
        for (int j = 0; j < 7; j++) {
            int k = 7 * l + j;
            int64_t out;
            char name[160];
            snprintf(name, sizeof name, "model.layers.%d.%s", l, LINEARS[j].suffix);
            names[k] = rf_strdup(name);
            linear_shape(s, j, &out, &in[k]);
            double **input = &inputs[NUM_INPUTS * l + LINEARS[j].input];
            if (!*input) { /* first matrix reading this input: make its statistics */
                rf_rng rng;
                rf_rng_init(&rng, rf_task_seed(s->seed, name) ^ 0x78747875ull);
                *input = rf_malloc((size_t)(in[k] * in[k]) * sizeof **input);
                make_xtx(&rng, s->calib_tokens, in[k], *input);
            }
            mats[k] = *input;
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/xtx.h5", dir);
    int rc = rf_xtx_write(path, n, (const char *const *)names, mats, in, s->calib_tokens);
    for (int k = 0; k < n; k++) free(names[k]);
    for (int k = 0; k < NUM_INPUTS * s->layers; k++) free(inputs[k]);
    free(names);
    free(mats);
    free(inputs);
    free(in);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * config.json */

static int write_config(const char *dir, const rf_synth_spec *s) {
    json_t *c = json_object();
    json_object_set_new(c, "architectures", json_pack("[s]", "Qwen3ForCausalLM"));
    json_object_set_new(c, "model_type", json_string("qwen3"));
    json_object_set_new(c, "hidden_size", json_integer(s->hidden));
    json_object_set_new(c, "intermediate_size", json_integer(s->intermediate));
    json_object_set_new(c, "num_hidden_layers", json_integer(s->layers));
    json_object_set_new(c, "num_attention_heads", json_integer(s->heads));
    json_object_set_new(c, "num_key_value_heads", json_integer(s->kv_heads));
    json_object_set_new(c, "head_dim", json_integer(s->head_dim));
    json_object_set_new(c, "vocab_size", json_integer(s->vocab));
    json_object_set_new(c, "hidden_act", json_string("silu"));
    json_object_set_new(c, "rms_norm_eps", json_real(1e-6));
    json_object_set_new(c, "rope_theta", json_real(1000000.0));
    json_object_set_new(c, "max_position_embeddings", json_integer(40960));
    json_object_set_new(c, "tie_word_embeddings", json_true());
    json_object_set_new(c, "torch_dtype", json_string("bfloat16"));
    json_object_set_new(c, "riverforge_synth_seed", json_integer((json_int_t)s->seed));
    if (s->vit_blocks > 0)
        json_object_set_new(c, "vision_config",
                            json_pack("{s:s, s:i, s:i, s:i}", "model_type",
                                      s->vit_style == RF_VIT_INTERNVIT ? "intern_vit_6b" : "siglip_vision_model",
                                      "num_hidden_layers", s->vit_blocks, "hidden_size",
                                      s->vit_hidden, "intermediate_size", s->vit_mlp));
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(c, tmp, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(c);
    if (rc != 0) return rf_fail("cannot write %s: %s", tmp, strerror(errno));
    return rf_atomic_commit(tmp, path);
}

int rf_synth_write(const char *dir, const rf_synth_spec *s) {
    if (rf_synth_check(s) != RF_OK) return RF_ERR;
    if (rf_make_dirs(dir) != RF_OK) return rf_fail_prefix("--out: ");
    if (write_weights(dir, s) != RF_OK || write_xtx(dir, s) != RF_OK ||
        rf_synth_tokenizer_write(dir, s->vocab) != RF_OK)
        return RF_ERR;
    return write_config(dir, s); /* last: a directory with config.json is a complete model */
}
