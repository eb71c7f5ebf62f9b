/*
 * idindex.c — see idindex.h.
 */
#include "base/idindex.h"

#include <stdlib.h>
#include <string.h>

#define IDINDEX_INITIAL_SLOTS 256

void idindex_init(struct idindex *ix)
{
    memset(ix, 0, sizeof(*ix));
}

void idindex_free(struct idindex *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}

static void place(struct idindex_slot *slots, size_t mask, uint64_t hash, uint32_t id)
{
    size_t i = hash & mask;
    while (slots[i].id != ID_NONE)
        i = (i + 1) & mask;
    slots[i] = (struct idindex_slot){ hash, id };
}

static void grow(struct idindex *ix)
{
    size_t old_n = ix->slots ? ix->mask + 1 : 0;
    size_t n = old_n ? old_n * 2 : IDINDEX_INITIAL_SLOTS;
    struct idindex_slot *slots = xmalloc(n * sizeof(*slots));
    for (size_t i = 0; i < n; i++)
        slots[i].id = ID_NONE;
    for (size_t i = 0; i < old_n; i++)
        if (ix->slots[i].id != ID_NONE)
            place(slots, n - 1, ix->slots[i].hash, ix->slots[i].id);
    free(ix->slots);
    ix->slots = slots;
    ix->mask = n - 1;
}

uint32_t idindex_find(const struct idindex *ix, uint64_t hash, idindex_eq_fn eq,
                      const void *records, const void *key)
{
    if (!ix->slots)
        return ID_NONE;
    for (size_t i = hash & ix->mask; ix->slots[i].id != ID_NONE; i = (i + 1) & ix->mask)
        if (ix->slots[i].hash == hash && eq(records, ix->slots[i].id, key))
            return ix->slots[i].id;
    return ID_NONE;
}

void idindex_add(struct idindex *ix, uint64_t hash, uint32_t id)
{
    if (!ix->slots || (ix->count + 1) * 2 > ix->mask + 1)
        grow(ix);
    place(ix->slots, ix->mask, hash, id);
    ix->count++;
}
