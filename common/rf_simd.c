/* rf_simd.c -- the SIMD path of the process (rf_simd.h). */
#include "common/rf_simd.h"

#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

static const char *const names[RF_SIMD_NPATHS] = {"baseline", "avx2", "avx512"};

const char *rf_simd_name(int path) {
    return path >= 0 && path < RF_SIMD_NPATHS ? names[path] : "?";
}

int rf_simd_supported(int path) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (path) {
    case RF_SIMD_BASELINE:
        return 1; /* the build's own target: it would not have started otherwise */
    case RF_SIMD_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("bmi2");
    case RF_SIMD_AVX512:
        return rf_simd_supported(RF_SIMD_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd");
    }
    return 0;
#else
    return path == RF_SIMD_BASELINE;
#endif
}

static int chosen = -1; /* written once (every thread that races computes the same value) */

int rf_simd_init(void) {
    int path = RF_SIMD_BASELINE;
    for (int p = RF_SIMD_NPATHS - 1; p > RF_SIMD_BASELINE; p--)
        if (rf_simd_supported(p)) {
            path = p;
            break;
        }
    const char *env = getenv("RF_SIMD");
    if (env && *env) {
        int want = -1;
        for (int p = 0; p < RF_SIMD_NPATHS; p++)
            if (!strcmp(env, names[p])) want = p;
        if (want < 0)
            return rf_fail("RF_SIMD=%s: expected baseline, avx2 or avx512 (or unset: the CPU's "
                           "best, here %s)", env, names[path]);
        if (!rf_simd_supported(want))
            return rf_fail("RF_SIMD=%s: this %s cannot run it (its best path: %s)", env,
#if defined(__x86_64__)
                           "CPU",
#else
                           "build (not x86-64)",
#endif
                           names[path]);
        path = want;
    }
    __atomic_store_n(&chosen, path, __ATOMIC_RELAXED);
    return RF_OK;
}

int rf_simd_path(void) {
    int path = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (path >= 0) return path;
    if (rf_simd_init() != RF_OK) rf_die_user("%s", rf_last_error());
    return __atomic_load_n(&chosen, __ATOMIC_RELAXED);
}

int rf_simd_set(int path) {
    if (!rf_simd_supported(path))
        return rf_fail("SIMD path %s: this CPU or build cannot run it", rf_simd_name(path));
    __atomic_store_n(&chosen, path, __ATOMIC_RELAXED);
    return RF_OK;
}
