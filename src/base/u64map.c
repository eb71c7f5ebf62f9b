/*
 * u64map.c — see u64map.h.
 */
#include "base/u64map.h"

#include <stdlib.h>
#include <string.h>

#define U64MAP_INITIAL_CAPACITY 64

static void alloc_slots(struct u64map *m, size_t capacity)
{
    m->keys = xmalloc(capacity * sizeof(*m->keys));
    m->values = xmalloc(capacity * sizeof(*m->values));
    memset(m->values, 0xff, capacity * sizeof(*m->values));
    m->mask = capacity - 1;
}

void u64map_init(struct u64map *m)
{
    memset(m, 0, sizeof(*m));
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}

void u64map_clear(struct u64map *m)
{
    if (m->values)
        memset(m->values, 0xff, (m->mask + 1) * sizeof(*m->values));
    m->count = 0;
}

static void insert_fresh(struct u64map *m, uint64_t key, uint32_t value)
{
    size_t i = hash_u64(key) & m->mask;
    while (m->values[i] != ID_NONE)
        i = (i + 1) & m->mask;
    m->keys[i] = key;
    m->values[i] = value;
}

static void grow(struct u64map *m)
{
    size_t old_cap = m->keys ? m->mask + 1 : 0;
    uint64_t *old_keys = m->keys;
    uint32_t *old_values = m->values;
    alloc_slots(m, old_cap ? old_cap * 2 : U64MAP_INITIAL_CAPACITY);
    for (size_t i = 0; i < old_cap; i++)
        if (old_values[i] != ID_NONE)
            insert_fresh(m, old_keys[i], old_values[i]);
    free(old_keys);
    free(old_values);
}

void u64map_put(struct u64map *m, uint64_t key, uint32_t value)
{
    if (!m->keys || (m->count + 1) * 2 > m->mask + 1)
        grow(m);
    size_t i = hash_u64(key) & m->mask;
    while (m->values[i] != ID_NONE) {
        if (m->keys[i] == key) {
            m->values[i] = value;
            return;
        }
        i = (i + 1) & m->mask;
    }
    m->keys[i] = key;
    m->values[i] = value;
    m->count++;
}

bool u64map_remove(struct u64map *m, uint64_t key)
{
    if (!m->keys)
        return false;
    size_t i = hash_u64(key) & m->mask;
    while (m->values[i] != ID_NONE && m->keys[i] != key)
        i = (i + 1) & m->mask;
    if (m->values[i] == ID_NONE)
        return false;
    /* Backward-shift: move later members of the probe chain into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->values[j] != ID_NONE; j = (j + 1) & m->mask) {
        size_t home = hash_u64(m->keys[j]) & m->mask;
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->keys[hole] = m->keys[j];
            m->values[hole] = m->values[j];
            hole = j;
        }
    }
    m->values[hole] = ID_NONE;
    m->count--;
    return true;
}
