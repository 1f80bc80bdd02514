/* synth.h -- a deterministic Hugging Face-format Qwen3-style model for tests, demos and benchmarks.
 *
 * DIR/config.json                       Qwen3ForCausalLM config (model_type "qwen3")
 * DIR/model-0000i-of-0000n.safetensors  BF16 tensors named exactly as Hugging Face writes them
 * DIR/model.safetensors.index.json      (a single model.safetensors when there is one file)
 * DIR/xtx.h5                            /xtx/NAME [in, in] for every linear matrix (io/xtx_file.h,
 *                                       docs/formats.md); built in memory: about 2 GB per
 *                                       Qwen3-4B layer
 * DIR/tokenizer.json, tokenizer_config.json  a byte-level tokenizer (ids 0..255 the bytes, 256
 *                                       the end of a document; synth_tokenizer.h) when the
 *                                       vocab holds its 257 ids
 *
 * Weights: W = diag(r) G / sqrt(in) + U V^T / sqrt(in) with per-row scales r ~ lognormal(0, 0.5),
 * G Gaussian and a rank-8 part, so rows differ in norm and the spectrum has a head, as in trained
 * models. Calibration: N tokens of activations per matrix input with Student-t (nu = 4) tails,
 * correlated features (a shared low-rank factor), lognormal channel scales and a few massive
 * outlier channels (x50); XTX = X^T X / N. Inputs shared by q/k/v and by gate/up are hard links.
 *
 * With vit_blocks > 0, a SigLIP-style vision tower in the first file, named as Hugging Face names
 * it: vision_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj, mlp.fc1, mlp.fc2}.{weight,bias}
 * and layer_norm{1,2}.{weight,bias}, with "vision_config" in config.json; or, with
 * vit_style RF_VIT_INTERNVIT, as InternViT (InternVL) names it: ...layers.N.{attn.qkv [3V, V],
 * attn.proj, mlp.fc1, mlp.fc2}.{weight,bias} and norm{1,2}.{weight,bias}. Each vision matrix is
 * 0.8 x a part shared by all blocks (seeded by its name without the block index) + 0.6 x a part
 * of its own: neighbouring blocks are alike, as in trained ViTs, which is what block sharing
 * (MiniViT, QGP) exploits.
 */
#ifndef RF_SYNTH_H
#define RF_SYNTH_H

#include <stdint.h>

typedef enum { RF_VIT_SIGLIP = 0, RF_VIT_INTERNVIT = 1 } rf_vit_style;

typedef struct {
    int layers, hidden, intermediate, heads, kv_heads, head_dim, vocab;
    int vit_blocks, vit_hidden, vit_mlp; /* a vision tower when vit_blocks > 0 */
    rf_vit_style vit_style;              /* its tensor names */
    int shards;           /* safetensors files; 1 writes model.safetensors; 0: one file per
                             RF_SYNTH_LAYERS_PER_FILE layers (rf_synth_files) */
    int calib_tokens;     /* N tokens behind each XTX */
    uint64_t seed;
} rf_synth_spec;

/* Qwen3-4B ships its 36 layers in 3 files: a preset's files follow its layer count. */
#define RF_SYNTH_LAYERS_PER_FILE 12

/* The small default: 2 layers, hidden 256, no vision tower -- quantizes in seconds on a laptop. */
rf_synth_spec rf_synth_default(void);
/* The model `run` writes without --model: the default with a 4-block SigLIP-style vision tower
 * (hidden 64, MLP 256), so that the embedded run has vision blocks to share. */
rf_synth_spec rf_synth_embedded(void);
/* Qwen3-4B's real shapes (36 layers, hidden 2560, intermediate 9728, 32/8 heads of 128), with
 * shards 0: 3 files for 36 layers, 1 for up to 12 layers. */
rf_synth_spec rf_synth_preset_qwen3_4b(void);

/* The number of safetensors files the spec writes (shards, or from the layers when 0). */
int rf_synth_files(const rf_synth_spec *s);

/* RF_ERR naming the field when the spec is inconsistent (e.g. heads not a multiple of kv_heads). */
int rf_synth_check(const rf_synth_spec *s);
/* Writes the model into DIR (created if needed). Files appear atomically. */
int rf_synth_write(const char *dir, const rf_synth_spec *s);

#endif
