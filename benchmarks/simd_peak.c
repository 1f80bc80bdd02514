/* simd_peak.c -- the multiply-add peak of one SIMD path on one core (compiled once per path by
 * rf_simd_objects; bench_simd runs every path): 14 independent chains acc = acc * a + b on vectors
 * of the path's width (14 + 2 constants fill x86's 16 registers; an FMA's latency, 4 cycles,
 * times its throughput, 2 per cycle, needs 8; x86's baseline has no FMA, and each step is a
 * multiply and an add, 2 FLOP per lane all the same, whose latencies add up to about 7). */
#include <stdint.h>

#include "common/rf_simd_path.h"

typedef float vf __attribute__((vector_size(RF_SIMD_F32_LANES * sizeof(float))));
/* An empty asm that "changes" v in a vector register: otherwise GCC runs each chain to its end
 * before the next (loop interchange), which is latency-bound. */
#if defined(__x86_64__)
#define KEEP(v) __asm__("" : "+v"(v))
#else
#define KEEP(v) __asm__("" : "+w"(v))
#endif
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
#define DECLARE(c) vf acc##c = (vf){} + (float)(c);
#define STEP(c) acc##c = acc##c * a + b; KEEP(acc##c);
#define SUM(c) s += acc##c;

/* iters rounds over the chains; returns the FLOP done. *sink keeps the result alive. */
double RF_SIMD_FN(simd_fma_peak)(int64_t iters, float *sink) {
    const vf a = (vf){} + 0.999999f, b = (vf){} + 1e-6f;
    CHAINS(DECLARE)
    for (int64_t i = 0; i < iters; i++) {
        CHAINS(STEP)
    }
    vf s = {};
    CHAINS(SUM)
    float t = 0;
    for (int l = 0; l < RF_SIMD_F32_LANES; l++) t += s[l];
    *sink = t;
    return 2.0 * (double)iters * 14 * RF_SIMD_F32_LANES;
}
