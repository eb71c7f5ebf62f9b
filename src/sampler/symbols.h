/*
 * symbols.h — interned frames: (file, function, line) triples with dense ids.
 *
 * A "frame" in a profile is a place in the source: the file, the function's
 * qualified name and the line being executed. Every distinct triple gets one
 * id, so stacks are arrays of integers and the outputs can group by any part
 * of the triple. Strings live in a shared string table.
 */
#ifndef STROBE_SAMPLER_SYMBOLS_H
#define STROBE_SAMPLER_SYMBOLS_H

#include "base/idindex.h"
#include "base/strtab.h"

struct frame_sym {
    uint32_t file;      /* string id */
    uint32_t name;      /* string id */
    int32_t line;
    int32_t first_line; /* the function's first line (co_firstlineno): not
                           part of the identity, kept for the outputs that
                           describe functions (pprof) */
};

struct symbols {
    struct strtab strings;
    struct frame_sym *frames;
    size_t count, cap;
    struct idindex index;
};

void symbols_init(struct symbols *s);
void symbols_free(struct symbols *s);
uint32_t symbols_frame(struct symbols *s, uint32_t file, uint32_t name, int32_t line,
                       int32_t first_line);

static inline const struct frame_sym *symbols_get(const struct symbols *s, uint32_t id)
{
    return &s->frames[id];
}

static inline const char *symbols_str(const struct symbols *s, uint32_t string_id)
{
    return strtab_get(&s->strings, string_id);
}

/*
 * Functions, for the outputs that describe them (pprof, the Firefox
 * Profiler): a frame's (file, name, first line), with dense ids from 0.
 * The first line is part of it: two lambdas of one file share a name.
 */
struct function_ids {
    struct frame_sym *functions;    /* line unused */
    size_t count, cap;
    struct idindex index;
};

void function_ids_init(struct function_ids *f);
void function_ids_free(struct function_ids *f);

/* The id of the function of frame `fs`; *added if it is new. */
uint32_t function_ids_get(struct function_ids *f, const struct frame_sym *fs, bool *added);

#endif
