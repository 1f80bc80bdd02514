/* gen_simd.h -- the SIMD vocabulary of the generators' read-out kernels (gen_mlp.c,
 * qgp_readout.c): VL-float vectors (GCC vector extensions), target clones for AVX-512 / AVX2 /
 * the build's baseline, and a vectorized tanh. */
#ifndef RF_GEN_SIMD_H
#define RF_GEN_SIMD_H

#include <stdint.h>

enum { VL = 16 };
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(int32_t))));

/* x86 only: elsewhere (aarch64, NEON in its baseline) the target's default flags build one path */
#if defined(__x86_64__)
#define RF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RF_CLONES
#endif
#define INLINE static inline __attribute__((always_inline))

/* *z = tanh(*z), lane by lane (libm's tanhf is a scalar call per element and was most of the
 * MLP forward's time). |x| < 0.4: the Taylor series to x^15 (next term < 3e-10 relative);
 * otherwise 1 - 2 / (e^{2|x|} + 1) with e^y = 2^k e^r, k = round(y / ln 2), |r| <= ln2 / 2, e^r by
 * its Taylor series to r^8 (error < 5e-9). |x| >= 9 rounds to +-1 in float anyway, so y is clamped
 * at 18. Within 2 float ulps of tanh; NaN stays NaN. Both branches are computed and chosen with
 * the -1/0 masks of vector compares. Pointers, not vector values: those would change the ABI
 * between target clones. */
INLINE void tanh_v(vf *z) {
    const vf x = *z;
    const vi xi = (vi)x, ab = xi & 0x7fffffff;
    const vi b9 = (vi){} + 0x41100000, b04 = (vi){} + 0x3ecccccd, inf = (vi){} + 0x7f800000;
    const vf x2 = x * x;
    vf ps = (vf){} - 1.4558343870513183e-3f;
    ps = ps * x2 + 3.592128036572481e-3f;
    ps = ps * x2 - 8.863235529902197e-3f;
    ps = ps * x2 + 2.1869488536155203e-2f;
    ps = ps * x2 - 5.396825396825397e-2f;
    ps = ps * x2 + 1.3333333333333333e-1f;
    ps = ps * x2 - 3.333333333333333e-1f;
    const vi small = (vi)(x + x * x2 * ps);
    const vi clamp = ab < b9;
    const vf hy = (vf)((ab & clamp) | (b9 & ~clamp));
    const vf y = 2.0f * hy;
    const vf kf = (y * 1.4426950408889634f + 12582912.0f) - 12582912.0f;
    const vf r = (y - kf * 0.693145751953125f) - kf * 1.428606765330187e-06f;
    vf e = (vf){} + 1.0f / 40320;
    e = e * r + 1.0f / 5040;
    e = e * r + 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    const vf two_k = (vf)((__builtin_convertvector(kf, vi) + 127) << 23);
    const vi big = (vi)(1.0f - 2.0f / (e * two_k + 1.0f));
    const vi use_small = ab < b04, nan = ab > inf;
    const vi res = (small & use_small) | ((big | (xi & INT32_MIN)) & ~use_small);
    *z = (vf)((xi & nan) | (res & ~nan));
}

INLINE double hsum(const vf *v) {
    const float *f = (const float *)v;
    double s = 0;
    for (int l = 0; l < VL; l++) s += f[l];
    return s;
}

#endif
