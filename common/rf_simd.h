/* rf_simd.h -- which SIMD path the vectorised kernels run, chosen once per process.
 *
 * A path is an instruction set the hot loops are compiled for, each with its own vector width:
 *   baseline  the build's default target: x86-64-v2 (SSE4.2) on x86-64, NEON on aarch64; 4 floats
 *   avx2      x86-64-v3 (AVX2 + FMA), 8 floats                       (x86-64 builds only)
 *   avx512    x86-64-v4 (AVX-512 F/BW/CD/DQ/VL), 16 floats            (x86-64 builds only)
 * The best path the CPU supports (cpuid, through __builtin_cpu_supports) is taken unless the
 * environment variable RF_SIMD names one (RF_SIMD=baseline|avx2|avx512): so that a lower path can
 * be run and tested on a machine that has a higher one. Asking for a path this CPU or build lacks
 * is a user error naming RF_SIMD.
 *
 * A kernel with per-path code is one source compiled once per path (CMake: rf_simd_objects) whose
 * functions rf_simd_path.h names fn_baseline, fn_avx2, fn_avx512; its dispatcher indexes
 * RF_SIMD_TABLE(fn) with rf_simd_path(). Results are bit-identical run to run on one path; paths
 * differ by rounding (the baseline x86 path has no FMA). */
#ifndef RF_SIMD_H
#define RF_SIMD_H

#include <stddef.h>

enum { RF_SIMD_BASELINE, RF_SIMD_AVX2, RF_SIMD_AVX512, RF_SIMD_NPATHS };

/* "baseline", "avx2", "avx512". */
const char *rf_simd_name(int path);
/* Whether this build has the path and this CPU can run it. */
int rf_simd_supported(int path);
/* Chooses the path (RF_SIMD or the CPU's best): RF_OK, or RF_ERR after rf_fail() with one line
 * naming RF_SIMD. Commands call it before any work so that a bad RF_SIMD exits 2 up front. */
int rf_simd_init(void);
/* The chosen path (rf_simd_init on first use; a bad RF_SIMD then stops through rf_die_user).
 * Cheap: the kernels call it per call. */
int rf_simd_path(void);

/* Switches the process to path (benchmarks that compare paths in one run): RF_OK, or RF_ERR
 * after rf_fail() when the build or CPU lacks it. Not while kernels run. */
int rf_simd_set(int path);

/* The per-path functions of fn in path order, for a dispatch table (NULL: not in this build). */
#define RF_SIMD_TABLE(fn) RF_SIMD_TABLE_(fn) /* (fn may be a macro that makes the name) */
#if defined(__x86_64__)
#define RF_SIMD_TABLE_(fn) {fn##_baseline, fn##_avx2, fn##_avx512}
#else
#define RF_SIMD_TABLE_(fn) {fn##_baseline, NULL, NULL}
#endif

#endif
