/* rf_half.h -- 16-bit floats: IEEE fp16 (checkpoint codebooks and scales, safetensors F16) and
 * bfloat16 (safetensors BF16). Stored as uint16_t bit patterns; conversions round to nearest even.
 * fp16 uses GCC's _Float16, which converts exactly as IEEE 754 says. */
#ifndef RF_HALF_H
#define RF_HALF_H

#include <stdint.h>
#include <string.h>

_Static_assert(sizeof(_Float16) == 2, "_Float16 must be 2 bytes");

static inline float rf_fp16_to_f32(uint16_t h) {
    _Float16 x;
    memcpy(&x, &h, 2);
    return (float)x;
}

static inline uint16_t rf_f32_to_fp16(float f) {
    _Float16 x = (_Float16)f;
    uint16_t h;
    memcpy(&h, &x, 2);
    return h;
}

/* The value an fp16 store gives back: what users of the checkpoint compute with. */
static inline float rf_round_fp16(float f) { return (float)(_Float16)f; }

static inline float rf_bf16_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t rf_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                             /* nearest even */
    return (uint16_t)(u >> 16);
}

#endif
