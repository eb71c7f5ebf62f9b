/*
 * symbols.c — see symbols.h.
 */
#include "sampler/symbols.h"

#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

void symbols_init(struct symbols *s)
{
    memset(s, 0, sizeof(*s));
    strtab_init(&s->strings);
    idindex_init(&s->index);
}

void symbols_free(struct symbols *s)
{
    strtab_free(&s->strings);
    idindex_free(&s->index);
    free(s->frames);
    memset(s, 0, sizeof(*s));
}

void function_ids_init(struct function_ids *f)
{
    memset(f, 0, sizeof(*f));
    idindex_init(&f->index);
}

void function_ids_free(struct function_ids *f)
{
    idindex_free(&f->index);
    free(f->functions);
    memset(f, 0, sizeof(*f));
}

static bool function_equals(const void *records, uint32_t id, const void *key)
{
    const struct frame_sym *a = &((const struct frame_sym *)records)[id];
    const struct frame_sym *b = key;
    return a->file == b->file && a->name == b->name && a->first_line == b->first_line;
}

/* A frame_sym table's id for `key`, added (*added) if it is new. */
static uint32_t intern(struct frame_sym **records, size_t *count, size_t *cap,
                       struct idindex *index, idindex_eq_fn eq, uint64_t hash,
                       const struct frame_sym *key, bool *added)
{
    uint32_t id = idindex_find(index, hash, eq, *records, key);
    *added = id == ID_NONE;
    if (id != ID_NONE)
        return id;
    *records = xgrow(*records, cap, *count + 1, sizeof(**records));
    id = (uint32_t)(*count)++;
    (*records)[id] = *key;
    idindex_add(index, hash, id);
    return id;
}

uint32_t function_ids_get(struct function_ids *f, const struct frame_sym *fs, bool *added)
{
    struct frame_sym key = { fs->file, fs->name, 0, fs->first_line };
    uint64_t h = hash_u64(((uint64_t)fs->file << 32 | fs->name) ^ hash_u64((uint32_t)fs->first_line));
    return intern(&f->functions, &f->count, &f->cap, &f->index, function_equals, h, &key, added);
}

static bool frame_equals(const void *records, uint32_t id, const void *key)
{
    const struct frame_sym *a = &((const struct frame_sym *)records)[id];
    const struct frame_sym *b = key;
    return a->file == b->file && a->name == b->name && a->line == b->line;
}

uint32_t symbols_frame(struct symbols *s, uint32_t file, uint32_t name, int32_t line,
                       int32_t first_line)
{
    struct frame_sym key = { file, name, line, first_line };
    uint64_t h = hash_u64(((uint64_t)file << 32 | name) ^ hash_u64((uint32_t)line));
    bool added;
    return intern(&s->frames, &s->count, &s->cap, &s->index, frame_equals, h, &key, &added);
}
