/*
 * strtab.h — a table of interned strings, each identified by a dense u32 id.
 *
 * File names and function names repeat across millions of samples; storing
 * each once and passing ids around keeps the aggregation tables small and
 * makes frame comparison an integer compare. Strings are copied into a chain
 * of blocks, so ids and the pointers returned by strtab_get stay valid for
 * the life of the table.
 */
#ifndef STROBE_BASE_STRTAB_H
#define STROBE_BASE_STRTAB_H

#include "base/idindex.h"

struct strtab_entry {
    const char *str;
    uint32_t len;
};

struct strtab {
    struct strtab_entry *entries;
    size_t count, cap;
    struct idindex index;
    struct strtab_block *blocks;
    size_t bytes;         /* total bytes of string storage, for --stats */
};

void strtab_init(struct strtab *t);
void strtab_free(struct strtab *t);
/* Return the id of `s` (len bytes, need not be NUL-terminated), adding it. */
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);
static inline const char *strtab_get(const struct strtab *t, uint32_t id)
{
    return t->entries[id].str;
}
static inline uint32_t strtab_len(const struct strtab *t, uint32_t id)
{
    return t->entries[id].len;
}

#endif
