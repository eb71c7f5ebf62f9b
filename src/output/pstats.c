/*
 * pstats.c — the marshal-format stats file; see pstats.h.
 *
 * Only the few marshal types a stats dict needs are written (see CPython's
 * Python/marshal.c): dicts, small tuples, ints (long form beyond 32 bits),
 * binary floats and strings. Every string is written once, flagged as a
 * reference, and later occurrences refer back to it: a profile names the
 * same file in hundreds of keys. All integers are little-endian.
 */
#include "output/pstats.h"

#include "sampler/flat.h"

#include <stdlib.h>
#include <string.h>

enum marshal_code {
    M_DICT = '{',
    M_DICT_END = '0',   /* TYPE_NULL closes a dict */
    M_SMALL_TUPLE = ')',
    M_INT = 'i',
    M_LONG = 'l',
    M_FLOAT = 'g',
    M_SHORT_ASCII = 'z',
    M_ASCII = 'a',
    M_UNICODE = 'u',
    M_REF = 'r',
};
#define M_FLAG_REF 0x80
#define M_SHORT_MAX 255
#define M_LONG_DIGIT_BITS 15    /* marshal's long digits are 15-bit */

struct marshal {
    FILE *f;
    const struct symbols *symbols;
    int32_t *ref_of_string; /* string id -> reference index, -1: not yet written */
    int32_t refs;
};

static void put_u32(FILE *f, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        fputc((int)(v >> (8 * i)) & 0xff, f);
}

static void put_int(FILE *f, uint64_t v)
{
    if (v <= INT32_MAX) {
        fputc(M_INT, f);
        put_u32(f, (uint32_t)v);
        return;
    }
    int digits = 0;
    for (uint64_t x = v; x; x >>= M_LONG_DIGIT_BITS)
        digits++;
    fputc(M_LONG, f);
    put_u32(f, (uint32_t)digits);
    for (; v; v >>= M_LONG_DIGIT_BITS) {
        uint16_t d = v & ((1u << M_LONG_DIGIT_BITS) - 1);
        fputc(d & 0xff, f);
        fputc(d >> 8, f);
    }
}

static void put_float(FILE *f, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    fputc(M_FLOAT, f);
    for (int i = 0; i < 8; i++)
        fputc((int)(bits >> (8 * i)) & 0xff, f);
}

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static void put_string(struct marshal *m, uint32_t id)
{
    if (m->ref_of_string[id] >= 0) {
        fputc(M_REF, m->f);
        put_u32(m->f, (uint32_t)m->ref_of_string[id]);
        return;
    }
    m->ref_of_string[id] = m->refs++;
    const char *s = symbols_str(m->symbols, id);
    size_t n = strtab_len(&m->symbols->strings, id);
    if (!is_ascii(s, n)) {
        fputc(M_UNICODE | M_FLAG_REF, m->f);
        put_u32(m->f, (uint32_t)n);
    } else if (n <= M_SHORT_MAX) {
        fputc(M_SHORT_ASCII | M_FLAG_REF, m->f);
        fputc((int)n, m->f);
    } else {
        fputc(M_ASCII | M_FLAG_REF, m->f);
        put_u32(m->f, (uint32_t)n);
    }
    fwrite(s, 1, n, m->f);
}

static void put_tuple_header(FILE *f, int n)
{
    fputc(M_SMALL_TUPLE, f);
    fputc(n, f);
}

/* (file, line, function) */
static void put_key(struct marshal *m, uint32_t frame)
{
    const struct frame_sym *fs = symbols_get(m->symbols, frame);
    put_tuple_header(m->f, 3);
    put_string(m, fs->file);
    put_int(m->f, (uint64_t)(fs->line > 0 ? fs->line : 0));
    put_string(m, fs->name);
}

static double seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

/* The callers of `frame`: edges[*next...] while their callee is `frame`. */
static void put_callers(struct marshal *m, const struct flat_edges *e, size_t *next,
                        uint32_t frame)
{
    fputc(M_DICT, m->f);
    for (; *next < e->count && e->edges[*next].callee == frame; (*next)++) {
        const struct flat_edge *edge = &e->edges[*next];
        put_key(m, edge->caller);
        put_tuple_header(m->f, 4);
        put_int(m->f, edge->cumulative);    /* nc */
        put_int(m->f, edge->direct);        /* cc */
        put_float(m->f, seconds(edge->direct_ns));
        put_float(m->f, seconds(edge->cumulative_ns));
    }
    fputc(M_DICT_END, m->f);
}

static int cmp_rows_by_frame(const void *pa, const void *pb)
{
    const struct flat_row *a = pa, *b = pb;
    return (a->frame > b->frame) - (a->frame < b->frame);
}

void pstats_write(FILE *f, const struct profile *p)
{
    struct flat_profile flat;
    struct flat_edges edges;
    flat_profile_compute(p, &flat);
    flat_edges_compute(p, &edges);
    /* Rows in frame order, to walk the edges (sorted by callee) alongside. */
    if (flat.count)
        qsort(flat.rows, flat.count, sizeof(*flat.rows), cmp_rows_by_frame);

    size_t nstrings = MAX(p->symbols.strings.count, 1);
    struct marshal m = { f, &p->symbols, xmalloc(nstrings * sizeof(int32_t)), 0 };
    memset(m.ref_of_string, 0xff, nstrings * sizeof(int32_t));

    fputc(M_DICT, f);
    size_t next_edge = 0;
    for (size_t i = 0; i < flat.count; i++) {
        const struct flat_row *row = &flat.rows[i];
        while (next_edge < edges.count && edges.edges[next_edge].callee < row->frame)
            next_edge++;
        put_key(&m, row->frame);
        put_tuple_header(f, 5);
        put_int(f, row->direct);        /* cc: "primitive calls" */
        put_int(f, row->cumulative);    /* nc: "calls" */
        put_float(f, seconds(row->direct_ns));
        put_float(f, seconds(row->cumulative_ns));
        put_callers(&m, &edges, &next_edge, row->frame);
    }
    fputc(M_DICT_END, f);

    free(m.ref_of_string);
    flat_edges_free(&edges);
    flat_profile_free(&flat);
}
