/*
 * linetable.h — bytecode offset -> source line, for every line-table format
 * CPython 3.8–3.15 uses.
 *
 * A code object's table is decoded once into a sorted array of ranges, so
 * each later lookup is a binary search (CPython's own decoders scan from the
 * start every time). The decoders take untrusted bytes: they stop at the end
 * of the input, cap varints, and saturate arithmetic, so any input yields a
 * table (possibly meaningless) and never undefined behaviour.
 */
#ifndef STROBE_PYTHON_LINETABLE_H
#define STROBE_PYTHON_LINETABLE_H

#include "python/layout.h"

/* A range of bytecode [previous range's end, end) executing `line`;
 * LINE_NONE for instructions with no source line. */
struct line_range {
    uint32_t end;
    int32_t line;
};

#define LINE_NONE (-1)

struct line_table {
    struct line_range *ranges;
    uint32_t count;
    int32_t firstlineno;
};

/* Decode `len` bytes of table in `format`. Always succeeds. */
void line_table_decode(struct line_table *t, enum py_linetable_format format, const uint8_t *data,
                       size_t len, int32_t firstlineno);
void line_table_free(struct line_table *t);

/* Line of the instruction at byte offset `offset` (negative: not started).
 * Instructions without a line report the function's first line. */
int32_t line_table_lookup(const struct line_table *t, int64_t offset);

#endif
