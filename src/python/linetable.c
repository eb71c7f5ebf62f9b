/*
 * linetable.c — line-table decoders; see linetable.h.
 *
 * Formats (offsets are in bytes of bytecode):
 *  - 3.8–3.9 co_lnotab: pairs (unsigned offset delta, signed line delta).
 *    The line changes once the offset reaches the accumulated delta.
 *  - 3.10 co_linetable (PEP 626): pairs (unsigned length, signed line delta)
 *    each describing one range; a line delta of -128 means "no line".
 *  - 3.11+ co_linetable (PEP 657): entries starting with a byte 1CCCCLLL:
 *    L+1 code units of length, code C says how the line is encoded: 0–9 short
 *    form (same line), 10–12 same line + 0..2, 13 and 14 a signed varint line
 *    delta, 15 no location. Varints hold 6 bits per byte, bit 6 continues.
 */
#include "python/linetable.h"

#include <stdlib.h>

#define LNOTAB_PAIR 2
#define PEP626_NO_LINE (-128)
#define LOCATION_ENTRY_START 0x80
#define LOCATION_CODE_SHIFT 3
#define LOCATION_CODE_MASK 0xF
#define LOCATION_LENGTH_MASK 7
#define LOCATION_CODE_ONE_LINE0 10
#define LOCATION_CODE_ONE_LINE2 12
#define LOCATION_CODE_NO_COLUMNS 13
#define LOCATION_CODE_LONG 14
#define LOCATION_CODE_NONE 15
#define CODE_UNIT_BYTES 2
#define VARINT_BITS 6
#define VARINT_MORE 0x40
#define VARINT_VALUE_MASK 0x3F
/* Beyond 32 bits a varint can only be garbage; stop accumulating. */
#define VARINT_MAX_SHIFT 30

static int32_t clamp_line(int64_t v)
{
    if (v > INT32_MAX)
        return INT32_MAX;
    if (v < INT32_MIN + 1)
        return INT32_MIN + 1;
    return (int32_t)v;
}

static uint32_t clamp_offset(uint64_t v)
{
    return v > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)v;
}

/* Append a range, merging with the previous one when the line repeats. */
static void push_range(struct line_table *t, uint32_t end, int32_t line)
{
    if (t->count && t->ranges[t->count - 1].end >= end)
        return;     /* empty range */
    if (t->count && t->ranges[t->count - 1].line == line) {
        t->ranges[t->count - 1].end = end;
        return;
    }
    t->ranges[t->count++] = (struct line_range){ end, line };
}

static void decode_lnotab(struct line_table *t, const uint8_t *p, size_t len)
{
    uint64_t addr = 0;
    int64_t line = t->firstlineno;
    for (size_t i = 0; i + 1 < len; i += LNOTAB_PAIR) {
        uint64_t next = addr + p[i];
        push_range(t, clamp_offset(next), clamp_line(line));
        addr = next;
        line += (int8_t)p[i + 1];
    }
    push_range(t, UINT32_MAX, clamp_line(line));
}

static void decode_pep626(struct line_table *t, const uint8_t *p, size_t len)
{
    uint64_t addr = 0;
    int64_t line = t->firstlineno;
    for (size_t i = 0; i + 1 < len; i += LNOTAB_PAIR) {
        int8_t delta = (int8_t)p[i + 1];
        int32_t this_line = LINE_NONE;
        if (delta != PEP626_NO_LINE) {
            line += delta;
            this_line = clamp_line(line);
        }
        addr += p[i];
        push_range(t, clamp_offset(addr), this_line);
    }
}

/* Unsigned varint at p[*i], advancing *i; stops at `len`. */
static uint32_t read_varint(const uint8_t *p, size_t len, size_t *i)
{
    uint32_t value = 0;
    unsigned shift = 0;
    while (*i < len) {
        uint8_t b = p[(*i)++];
        if (shift <= VARINT_MAX_SHIFT)
            value |= (uint32_t)(b & VARINT_VALUE_MASK) << shift;
        shift += VARINT_BITS;
        if (!(b & VARINT_MORE))
            break;
    }
    return value;
}

static int64_t read_signed_varint(const uint8_t *p, size_t len, size_t *i)
{
    uint32_t u = read_varint(p, len, i);
    return (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
}

static void decode_locations(struct line_table *t, const uint8_t *p, size_t len)
{
    uint64_t addr = 0;
    int64_t line = t->firstlineno;
    size_t i = 0;
    while (i < len) {
        uint8_t head = p[i++];
        if (!(head & LOCATION_ENTRY_START))
            continue;   /* not an entry start: resynchronise */
        unsigned code = (head >> LOCATION_CODE_SHIFT) & LOCATION_CODE_MASK;
        uint64_t length = ((uint64_t)(head & LOCATION_LENGTH_MASK) + 1) * CODE_UNIT_BYTES;
        size_t j = i;
        if (code == LOCATION_CODE_NO_COLUMNS || code == LOCATION_CODE_LONG)
            line += read_signed_varint(p, len, &j);
        else if (code >= LOCATION_CODE_ONE_LINE0 && code <= LOCATION_CODE_ONE_LINE2)
            line += code - LOCATION_CODE_ONE_LINE0;
        addr += length;
        push_range(t, clamp_offset(addr), code == LOCATION_CODE_NONE ? LINE_NONE : clamp_line(line));
        /* Skip the rest of the entry (columns etc.). */
        while (i < len && !(p[i] & LOCATION_ENTRY_START))
            i++;
    }
}

void line_table_decode(struct line_table *t, enum py_linetable_format format, const uint8_t *data,
                       size_t len, int32_t firstlineno)
{
    /* Every entry is at least one byte, plus one trailing range. */
    t->ranges = xmalloc((len + 1) * sizeof(*t->ranges));
    t->count = 0;
    t->firstlineno = firstlineno;
    switch (format) {
    case LINETABLE_LNOTAB:
        decode_lnotab(t, data, len);
        break;
    case LINETABLE_PEP626:
        decode_pep626(t, data, len);
        break;
    case LINETABLE_LOCATIONS:
        decode_locations(t, data, len);
        break;
    }
}

void line_table_free(struct line_table *t)
{
    free(t->ranges);
    t->ranges = NULL;
    t->count = 0;
}

int32_t line_table_lookup(const struct line_table *t, int64_t offset)
{
    if (offset < 0 || t->count == 0)
        return t->firstlineno;
    uint32_t lo = 0, hi = t->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((int64_t)t->ranges[mid].end <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->count || t->ranges[lo].line == LINE_NONE)
        return t->firstlineno;
    return t->ranges[lo].line;
}
