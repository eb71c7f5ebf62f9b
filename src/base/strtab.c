/*
 * strtab.c — see strtab.h.
 */
#include "base/strtab.h"

#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

#define STRTAB_BLOCK_SIZE ((size_t)64 * 1024)

/* Storage block; strings larger than a block get a block of their own. */
struct strtab_block {
    struct strtab_block *next;
    size_t used, size;
    char data[];
};

struct string_key {
    const char *s;
    size_t len;
};

void strtab_init(struct strtab *t)
{
    memset(t, 0, sizeof(*t));
    idindex_init(&t->index);
}

void strtab_free(struct strtab *t)
{
    struct strtab_block *b = t->blocks;
    while (b) {
        struct strtab_block *next = b->next;
        free(b);
        b = next;
    }
    free(t->entries);
    idindex_free(&t->index);
    memset(t, 0, sizeof(*t));
}

static char *store(struct strtab *t, const char *s, size_t len)
{
    struct strtab_block *b = t->blocks;
    if (!b || b->size - b->used < len + 1) {
        size_t size = MAX(STRTAB_BLOCK_SIZE, len + 1);
        b = xmalloc(sizeof(*b) + size);
        b->used = 0;
        b->size = size;
        b->next = t->blocks;
        t->blocks = b;
    }
    char *dst = b->data + b->used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    b->used += len + 1;
    t->bytes += len + 1;
    return dst;
}

static bool entry_equals(const void *records, uint32_t id, const void *key)
{
    const struct strtab_entry *e = &((const struct strtab_entry *)records)[id];
    const struct string_key *k = key;
    return e->len == k->len && memcmp(e->str, k->s, k->len) == 0;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
    uint64_t h = hash_bytes(s, len, 0);
    struct string_key key = { s, len };
    uint32_t id = idindex_find(&t->index, h, entry_equals, t->entries, &key);
    if (id != ID_NONE)
        return id;
    t->entries = xgrow(t->entries, &t->cap, t->count + 1, sizeof(*t->entries));
    id = (uint32_t)t->count++;
    t->entries[id] = (struct strtab_entry){ store(t, s, len), (uint32_t)len };
    idindex_add(&t->index, h, id);
    return id;
}
