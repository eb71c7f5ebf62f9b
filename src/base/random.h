/*
 * random.h — a small, fast pseudo-random generator (xorshift64*).
 *
 * For choices that must not fall into step with the target, such as how
 * long to wait before looking at a stack again (sampler.c). Not for
 * anything that must be unpredictable to an adversary.
 */
#ifndef STROBE_BASE_RANDOM_H
#define STROBE_BASE_RANDOM_H

#include "base/hash.h"

#include <stdint.h>

/* Any state but zero works; a zero seed gets this one. */
#define RANDOM_NONZERO_STATE 0x9e3779b97f4a7c15ULL

static inline uint64_t random_seed(uint64_t seed)
{
    uint64_t state = hash_u64(seed);
    return state ? state : RANDOM_NONZERO_STATE;
}

static inline uint64_t random_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform enough in [0, bound) for bound well below 2^64; 0 if bound is 0. */
static inline uint64_t random_below(uint64_t *state, uint64_t bound)
{
    return bound ? random_next(state) % bound : 0;
}

#endif
