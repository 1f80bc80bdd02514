/* decoder_model.h -- a Hugging Face decoder (Qwen3, Qwen2, Llama; plain or under InternVL's
 * `language_model.` prefix) read for the forward pass of kernels/decoder/decoder.h: config.json
 * turned into rf_dec_config (fields that change the math and are not supported are refused by
 * name), every tensor checked against it at open, and one layer's matrices converted to float32
 * when that layer runs. With a checkpoint, a layer's matrices that it holds as /matrices/NAME are
 * AQLM-dequantized in place of the model's (docs/formats.md).
 *
 * Memory: the embedding (and an untied lm_head) stay as float32 [V, H] for the whole run; a layer
 * is 12 H^2 + 3 H I floats or so while it is loaded. */
#ifndef RF_DECODER_MODEL_H
#define RF_DECODER_MODEL_H

#include "io/safetensors.h"
#include "kernels/decoder/decoder.h"

typedef struct {
    rf_dec_config cfg;
    int nlayers;
    rf_st_model st;
    char prefix[32];        /* "" or "language_model." */
    char model_type[64];
    int qk_norm;            /* Qwen3 */
    int tied;               /* lm_head is the embedding */
    const char *checkpoint; /* NULL: dense */
    char **qnames;          /* the checkpoint's /matrices names, sorted */
    int nq;
} rf_dec_model;

/* Opens DIR (config.json + safetensors), checks config and every tensor, and the checkpoint's
 * matrices (when checkpoint is not NULL) against the model's shapes. RF_ERR with one line naming
 * the file, field or tensor. */
int rf_dec_model_open(rf_dec_model *m, const char *dir, const char *checkpoint);
void rf_dec_model_close(rf_dec_model *m);

/* float32 copies of the embedding [V, H], the final norm [H] and the lm_head [V, H] (the same
 * buffer as the embedding when tied; lm_head may be NULL when not needed). Free with free(). */
int rf_dec_model_globals(const rf_dec_model *m, float **embed, float **final_norm, float **lm_head);

/* Layer `layer`'s weights as float32 (dequantized from the checkpoint where it has them);
 * *nquantized counts those. rf_dec_model_layer_free releases the buffers. */
typedef struct {
    rf_dec_layer w;
    float *bufs[16];
    int nbufs;
    int nquantized;
} rf_dec_model_layer;
int rf_dec_model_layer_load(const rf_dec_model *m, int layer, rf_dec_model_layer *out);
void rf_dec_model_layer_free(rf_dec_model_layer *l);

/* The names of layer L's 7 matrices as the task list names them (no ".weight"), in the order
 * q, k, v, o, gate, up, down, into names[7][256]. */
void rf_dec_model_matrix_names(const rf_dec_model *m, int layer, char names[7][256]);

#endif
