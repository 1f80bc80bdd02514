/* forward_pass.h -- one rank's share of sequences through a decoder, layer by layer: the rank
 * holds its sequences' hidden states [count, T, H] and one layer's weights at a time (loaded,
 * run over every sequence, freed). What `eval` and `calibrate` share; no MPI calls here (the
 * layer_done callback is where calibrate's collective goes). */
#ifndef RF_FORWARD_PASS_H
#define RF_FORWARD_PASS_H

#include <stdint.h>

#include "io/decoder_model.h"
#include "io/tokens.h"

typedef struct {
    const rf_dec_model *m;
    const float *embed;        /* [V, H] float32 */
    int32_t *ids;              /* [count, T] */
    int64_t count;
    int T;
    rf_dec_tap_fn tap;         /* may be NULL */
    int tap_from;              /* layers before it run without tap (a resumed calibration) */
    void *ctx;
    /* after layer L ran over every sequence (may be NULL); tokens/s so far. Nonzero: stop here */
    int (*layer_done)(void *ctx, int layer, double tokens_per_s);
    int nquantized;            /* out: matrices taken from the checkpoint */
    int stopped;               /* out: layer_done asked to stop before the last layer ran */
} rf_forward;

/* Reads the ids of sequences [first, first + count) (tokens.h windows) into f->ids (malloc'd). */
void rf_forward_ids(rf_forward *f, const rf_tokens *tok, uint64_t seed, int64_t first);
/* Runs every layer (or up to the one whose layer_done said stop); returns the hidden states
 * [count, T, H] (malloc'd), or NULL when a layer's weights fail to load (rf_last_error names the
 * tensor). */
float *rf_forward_run(rf_forward *f);

#endif
