/* rf_simd_path.h -- included by a source that CMake compiles once per SIMD path (rf_simd_objects
 * defines RF_SIMD_PATH, rf_simd.h's path number, and the path's -march): the path's function
 * suffix and its vector width, so that one source makes fn_baseline, fn_avx2 and fn_avx512.
 *   RF_SIMD_FN(fn)       fn_<path>
 *   RF_SIMD_F32_LANES    floats per native vector register (4, 8, 16)
 *   RF_SIMD_MIN_F32(p, q)  the lane-wise minimum q < p ? q : p of two native float vectors in one
 *                          instruction (GNU C has no vector ?: and spells it as a compare and a
 *                          select, two)
 *   RF_SIMD_ANY_LT_F32(p, q)  whether p < q in any lane (a compare and a mask test: GNU C would
 *                          move the compare's vector to general registers piece by piece) */
#ifndef RF_SIMD_PATH_H
#define RF_SIMD_PATH_H

#include "common/rf_simd.h"

#define RF_SIMD_CAT_(a, b) RF_SIMD_CAT2_(a, b) /* (a may be a macro that makes the name) */
#define RF_SIMD_CAT2_(a, b) a##b

#if !defined(RF_SIMD_PATH)
#error "rf_simd_path.h: compile this file through rf_simd_objects (CMake), which sets RF_SIMD_PATH"
#elif RF_SIMD_PATH == 2 /* RF_SIMD_AVX512 (the preprocessor cannot see enums) */
#include <immintrin.h>
#define RF_SIMD_FN(fn) RF_SIMD_CAT_(fn, _avx512)
#define RF_SIMD_F32_LANES 16
#define RF_SIMD_MIN_F32(p, q) ((__typeof__(p))_mm512_min_ps((__m512)(q), (__m512)(p)))
#define RF_SIMD_ANY_LT_F32(p, q) (_mm512_cmp_ps_mask((__m512)(p), (__m512)(q), _CMP_LT_OQ) != 0)
#elif RF_SIMD_PATH == 1 /* RF_SIMD_AVX2 */
#include <immintrin.h>
#define RF_SIMD_FN(fn) RF_SIMD_CAT_(fn, _avx2)
#define RF_SIMD_F32_LANES 8
#define RF_SIMD_MIN_F32(p, q) ((__typeof__(p))_mm256_min_ps((__m256)(q), (__m256)(p)))
#define RF_SIMD_ANY_LT_F32(p, q) \
    (_mm256_movemask_ps(_mm256_cmp_ps((__m256)(p), (__m256)(q), _CMP_LT_OQ)) != 0)
#else
#define RF_SIMD_FN(fn) RF_SIMD_CAT_(fn, _baseline)
#define RF_SIMD_F32_LANES 4
#if defined(__aarch64__)
#include <arm_neon.h>
#define RF_SIMD_MIN_F32(p, q) ((__typeof__(p))vminq_f32((float32x4_t)(q), (float32x4_t)(p)))
#define RF_SIMD_ANY_LT_F32(p, q) (vmaxvq_u32(vcltq_f32((float32x4_t)(p), (float32x4_t)(q))) != 0)
#else
#include <immintrin.h>
#define RF_SIMD_MIN_F32(p, q) ((__typeof__(p))_mm_min_ps((__m128)(q), (__m128)(p)))
#define RF_SIMD_ANY_LT_F32(p, q) (_mm_movemask_ps(_mm_cmplt_ps((__m128)(p), (__m128)(q))) != 0)
#endif
#endif

#endif
