/* rf_rng.c -- xoshiro256** (Blackman & Vigna), splitmix64 seeding, FNV-1a name hashing. */
#include "common/rf_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rf_error.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rf_rng_init(rf_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rf_rng_u64(rf_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rf_rng_uniform(rf_rng *r) { return (double)(rf_rng_u64(r) >> 11) * 0x1.0p-53; }

double rf_rng_normal(rf_rng *r) {
    double u1 = rf_rng_uniform(r), u2 = rf_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

uint64_t rf_rng_below(rf_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the uneven tail */
    uint64_t x;
    do x = rf_rng_u64(r);
    while (x >= limit);
    return x % n;
}

void rf_rng_shuffle(rf_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rf_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

void rf_rng_sample(rf_rng *r, int64_t n, int64_t k, int64_t *out) {
    int64_t *perm = rf_malloc((size_t)n * sizeof *perm);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = 0; i < k; i++) { /* partial Fisher-Yates: the first k slots are the sample */
        int64_t j = i + (int64_t)rf_rng_below(r, (uint64_t)(n - i));
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = perm[i];
    }
    free(perm);
}

uint64_t rf_hash_bytes(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

uint64_t rf_hash_name(const char *s) { return rf_hash_bytes(RF_HASH_INIT, s, strlen(s)); }

uint64_t rf_task_seed(uint64_t run_seed, const char *task_name) {
    uint64_t x = run_seed ^ rf_hash_name(task_name);
    return splitmix64(&x);
}
