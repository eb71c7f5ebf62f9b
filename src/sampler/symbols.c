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
    uint32_t id = idindex_find(&s->index, h, frame_equals, s->frames, &key);
    if (id != ID_NONE)
        return id;
    s->frames = xgrow(s->frames, &s->cap, s->count + 1, sizeof(*s->frames));
    id = (uint32_t)s->count++;
    s->frames[id] = key;
    idindex_add(&s->index, h, id);
    return id;
}
