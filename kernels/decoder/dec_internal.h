/* dec_internal.h -- what the decoder's fast path (dec_layer.c, dec_head.c) and its _ref twins
 * (dec_ref.c) share: RoPE tables and rotation, SwiGLU. Not part of the kernel's API. */
#ifndef RF_DEC_INTERNAL_H
#define RF_DEC_INTERNAL_H

#include "kernels/decoder/decoder.h"

/* cos/sin [T, hd/2] of position t times inv_freq[i]. */
void rf_dec_rope_table(const rf_dec_config *c, int T, float *cos_t, float *sin_t);
/* Rotates nheads heads of hd values at the start of each of T rows of stride ld, in place. */
void rf_dec_rope_apply(float *q, int64_t ld, int T, int nheads, int hd, const float *cos_t,
                       const float *sin_t);
/* g = silu(g) * u over n values. */
void rf_dec_swiglu(float *g, const float *u, int64_t n);

#endif
