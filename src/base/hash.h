/*
 * hash.h — fast non-cryptographic hashing for strobe's in-memory tables.
 *
 * The tables hash remote addresses, packed (parent, frame) pairs and short
 * strings. None of these keys is attacker-chosen in a way that matters (a
 * hostile target could only slow its own profile down), so a strong 64-bit
 * mixer is enough; no seeding.
 */
#ifndef STROBE_BASE_HASH_H
#define STROBE_BASE_HASH_H

#include <stdint.h>
#include <string.h>

/* A bijective 64-bit finaliser (from MurmurHash3's fmix64). */
static inline uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Hash a byte string eight bytes at a time. */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hash_u64(h ^ w);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return hash_u64(h ^ tail ^ ((uint64_t)len << 56));
}

#endif
