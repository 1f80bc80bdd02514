/* vit_share.h -- block sharing in the vision tower (docs/vqc.md): which blocks reuse
 * which, and the tasks that generate the shared blocks' matrices.
 *
 * --vit-share A:B[,C:D...]: block B drops its own matrices and reuses block A's; for every linear
 * matrix of block B one task trains a generator (kernels/vitgen/vitgen.h) mapping A's matrix to an
 * approximation of B's. Vision matrices are recognized by their Hugging Face names:
 *   SigLIP     [PREFIX.]vision_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj, mlp.fc1, mlp.fc2}.weight
 *   InternViT  [PREFIX.]vision_model.encoder.layers.N.{attn.qkv, attn.proj, mlp.fc1, mlp.fc2}.weight
 * (any prefix before "encoder.layers" is accepted, e.g. InternVL's "vision_model.").
 * A block that is itself shared cannot be a source (23:24,24:25 is refused: write 23:25, as
 * MiniViT's groups share the first block's matrices).
 */
#ifndef RF_VIT_SHARE_H
#define RF_VIT_SHARE_H

#include <regex.h>

#include "io/safetensors.h"
#include "kernels/vitgen/vitgen.h"

#define RF_VIT_MAX_PAIRS 64

typedef struct {
    int npairs;
    int from[RF_VIT_MAX_PAIRS], to[RF_VIT_MAX_PAIRS]; /* block to[i] reuses block from[i] */
    rf_gen_config gen;
} rf_vit_share;

/* "23:24,25:26" -> vs->pairs (vs->gen untouched); RF_ERR with one line naming --vit-share. */
int rf_vit_share_parse(const char *spec, rf_vit_share *vs);
/* "23:24,25:26" again (the run's configuration JSON stores it); buf of len bytes. */
void rf_vit_share_format(const rf_vit_share *vs, char *buf, size_t len);

#endif
