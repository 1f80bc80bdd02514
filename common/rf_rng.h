/* rf_rng.h -- deterministic random numbers. Every task seeds its own generator from the run seed
 * and its task name, so its result does not depend on which rank runs it or in which order.
 * Generator: xoshiro256** seeded through splitmix64; names hashed with FNV-1a 64. */
#ifndef RF_RNG_H
#define RF_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rf_rng;

void rf_rng_init(rf_rng *r, uint64_t seed);
uint64_t rf_rng_u64(rf_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double rf_rng_uniform(rf_rng *r);
/* Standard normal (Box-Muller; one value per call, deterministic). */
double rf_rng_normal(rf_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t rf_rng_below(rf_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void rf_rng_shuffle(rf_rng *r, int64_t *idx, int64_t n);
/* The first k entries of a random permutation of 0..n-1 (k <= n), written to out[0..k). */
void rf_rng_sample(rf_rng *r, int64_t n, int64_t k, int64_t *out);

/* FNV-1a 64 of n bytes, continuing from h (start with RF_HASH_INIT). */
#define RF_HASH_INIT 0xcbf29ce484222325ull
uint64_t rf_hash_bytes(uint64_t h, const void *data, size_t n);
uint64_t rf_hash_name(const char *s);
/* The seed of one task: a mix of the run seed and the hash of its name. */
uint64_t rf_task_seed(uint64_t run_seed, const char *task_name);

#endif
