/*
 * u64map.h — an open-addressing hash map from 64-bit keys to 32-bit ids.
 *
 * It is the workhorse behind the hot lookups of a sample: remote code-object
 * address -> code cache entry, packed (parent node, frame) -> call-tree node,
 * thread id -> per-thread memo. Linear probing over a power-of-two table kept
 * at most half full; every key is allowed (an empty slot is marked by the
 * value ID_NONE, which is never stored). Entries can be removed (backward
 * shift deletion keeps probe chains intact without tombstones).
 */
#ifndef STROBE_BASE_U64MAP_H
#define STROBE_BASE_U64MAP_H

#include "base/common.h"
#include "base/hash.h"

struct u64map {
    uint64_t *keys;
    uint32_t *values;   /* ID_NONE marks an empty slot */
    size_t mask;        /* capacity - 1; capacity is a power of two */
    size_t count;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
void u64map_clear(struct u64map *m);
/* Insert or overwrite. `value` must not be ID_NONE. */
void u64map_put(struct u64map *m, uint64_t key, uint32_t value);
bool u64map_remove(struct u64map *m, uint64_t key);

static inline uint32_t u64map_get(const struct u64map *m, uint64_t key)
{
    if (!m->keys)
        return ID_NONE;
    size_t i = hash_u64(key) & m->mask;
    for (;;) {
        uint32_t v = m->values[i];
        if (v == ID_NONE || m->keys[i] == key)
            return v;
        i = (i + 1) & m->mask;
    }
}

#endif
