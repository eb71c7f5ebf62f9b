/*
 * idindex.h — a hash index over records that live in the caller's array.
 *
 * Interning tables (strings, frames) keep their records in a dense array and
 * hand out the array index as the id. This index maps a key to that id: it
 * stores (hash, id) pairs with open addressing and asks the caller, through
 * `eq`, whether the record with a given id matches the key being looked up.
 * Keeping the hash in the slot makes growth independent of the records.
 */
#ifndef STROBE_BASE_IDINDEX_H
#define STROBE_BASE_IDINDEX_H

#include "base/common.h"

struct idindex_slot {
    uint64_t hash;
    uint32_t id;        /* ID_NONE: empty */
};

struct idindex {
    struct idindex_slot *slots;
    size_t mask;
    size_t count;
};

/* Does record `id` equal the key being looked up? */
typedef bool (*idindex_eq_fn)(const void *records, uint32_t id, const void *key);

void idindex_init(struct idindex *ix);
void idindex_free(struct idindex *ix);

/* The id of the record equal to `key`, or ID_NONE. */
uint32_t idindex_find(const struct idindex *ix, uint64_t hash, idindex_eq_fn eq,
                      const void *records, const void *key);

/* Add a record id known not to be present. */
void idindex_add(struct idindex *ix, uint64_t hash, uint32_t id);

#endif
