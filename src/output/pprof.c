/*
 * pprof.c — see pprof.h. Field numbers are those of google/pprof's
 * proto/profile.proto.
 */
#include "output/pprof.h"

#include "output/protobuf.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum profile_field {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_LOCATION = 4, PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS = 10,
    PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12, PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14,
};
enum value_type_field { VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2 };
enum sample_field { SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3 };
enum label_field { LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3 };
enum location_field { LOCATION_ID = 1, LOCATION_LINE = 4 };
enum line_field { LINE_FUNCTION_ID = 1, LINE_LINE = 2 };
enum function_field { FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_FILENAME = 4,
                      FUNCTION_START_LINE = 5 };

#define GZIP_WINDOW_BITS (15 + 16)  /* zlib: a gzip header and trailer */
#define GZIP_LEVEL 6
#define GZIP_CHUNK 65536

/* The string table: index 0 is "", strobe's strings are added on first use. */
struct strings {
    struct pb_buf *out;             /* the profile, where entries are written */
    const struct symbols *symbols;
    int64_t *index_of_symbol;       /* symbol string id -> table index, -1 */
    int64_t next;
};

static int64_t add_literal(struct strings *s, const char *str)
{
    pb_bytes(s->out, PROFILE_STRING_TABLE, str, strlen(str));
    return s->next++;
}

static int64_t add_symbol_string(struct strings *s, uint32_t id)
{
    if (s->index_of_symbol[id] < 0) {
        const char *str = symbols_str(s->symbols, id);
        pb_bytes(s->out, PROFILE_STRING_TABLE, str, strtab_len(&s->symbols->strings, id));
        s->index_of_symbol[id] = s->next++;
    }
    return s->index_of_symbol[id];
}

static void put_value_type(struct pb_buf *out, uint32_t field, int64_t type, int64_t unit,
                           struct pb_buf *scratch)
{
    pb_reset(scratch);
    pb_uint(scratch, VALUE_TYPE_TYPE, (uint64_t)type);
    pb_uint(scratch, VALUE_TYPE_UNIT, (uint64_t)unit);
    pb_message(out, field, scratch);
}

/* Functions (file, name, first line) get ids 1..n; returns each frame's
 * function id. */
static uint32_t *put_functions(struct pb_buf *out, struct strings *strs, const struct symbols *syms,
                               struct pb_buf *scratch)
{
    uint32_t *function_of_frame = xmalloc(MAX(syms->count, 1) * sizeof(uint32_t));
    struct function_ids ids;
    function_ids_init(&ids);
    for (size_t i = 0; i < syms->count; i++) {
        const struct frame_sym *fs = symbols_get(syms, (uint32_t)i);
        bool added;
        uint32_t id = function_ids_get(&ids, fs, &added) + 1;    /* 0 is no id in pprof */
        if (added) {
            pb_reset(scratch);
            pb_uint(scratch, FUNCTION_ID, id);
            pb_uint(scratch, FUNCTION_NAME, (uint64_t)add_symbol_string(strs, fs->name));
            pb_uint(scratch, FUNCTION_FILENAME, (uint64_t)add_symbol_string(strs, fs->file));
            pb_uint(scratch, FUNCTION_START_LINE, (uint64_t)MAX(fs->first_line, 0));
            pb_message(out, PROFILE_FUNCTION, scratch);
        }
        function_of_frame[i] = id;
    }
    function_ids_free(&ids);
    return function_of_frame;
}

/* One location per frame symbol, id = frame + 1. */
static void put_locations(struct pb_buf *out, const struct symbols *syms,
                          const uint32_t *function_of_frame, struct pb_buf *scratch)
{
    struct pb_buf line = { 0 };
    for (size_t i = 0; i < syms->count; i++) {
        pb_reset(&line);
        pb_uint(&line, LINE_FUNCTION_ID, function_of_frame[i]);
        pb_uint(&line, LINE_LINE, (uint64_t)MAX(symbols_get(syms, (uint32_t)i)->line, 0));
        pb_reset(scratch);
        pb_uint(scratch, LOCATION_ID, i + 1);
        pb_message(scratch, LOCATION_LINE, &line);
        pb_message(out, PROFILE_LOCATION, scratch);
    }
    pb_free(&line);
}

static void put_label(struct pb_buf *sample, int64_t key, int64_t str, uint64_t num,
                      struct pb_buf *scratch)
{
    pb_reset(scratch);
    pb_uint(scratch, LABEL_KEY, (uint64_t)key);
    pb_uint(scratch, LABEL_STR, (uint64_t)str);
    pb_uint(scratch, LABEL_NUM, num);
    pb_message(sample, SAMPLE_LABEL, scratch);
}

static void put_samples(struct pb_buf *out, struct strings *strs, const struct profile *p,
                        struct pb_buf *scratch)
{
    const struct calltree *t = &p->tree;
    struct calltree_leaves leaves;
    calltree_leaves_collect(t, &leaves);
    uint32_t *path = xmalloc((leaves.max_depth + 1) * sizeof(*path));
    uint64_t *ids = xmalloc((leaves.max_depth + 1) * sizeof(*ids));
    int64_t tid_key = add_literal(strs, "thread id");
    int64_t name_key = add_literal(strs, "thread name");
    struct pb_buf sample = { 0 }, packed = { 0 };
    for (size_t thread = 0; thread < t->nthreads; thread++) {
        const struct calltree_thread *th = &t->threads[thread];
        int64_t name = th->name[0] ? add_literal(strs, th->name) : 0;
        for (size_t i = leaves.start[thread]; i < leaves.start[thread + 1]; i++) {
            const struct call_node *leaf = &t->nodes[leaves.nodes[i]];
            size_t depth = calltree_path(t, leaves.nodes[i], path);
            for (size_t d = 0; d < depth; d++)
                ids[d] = (uint64_t)path[d] + 1;     /* leaf first */
            uint64_t values[2] = { leaf->self_samples, leaf->self_ns };
            pb_reset(&sample);
            pb_packed(&sample, SAMPLE_LOCATION_ID, ids, depth, &packed);
            pb_packed(&sample, SAMPLE_VALUE, values, 2, &packed);
            put_label(&sample, tid_key, 0, th->tid, scratch);
            if (name)
                put_label(&sample, name_key, name, 0, scratch);
            pb_message(out, PROFILE_SAMPLE, &sample);
        }
    }
    pb_free(&sample);
    pb_free(&packed);
    free(ids);
    free(path);
    calltree_leaves_free(&leaves);
}

/* The whole profile, uncompressed. */
static void build_profile(struct pb_buf *out, const struct profile *p)
{
    struct pb_buf scratch = { 0 };
    struct strings strs = { out, &p->symbols, NULL, 0 };
    size_t nstrings = MAX(p->symbols.strings.count, 1);
    strs.index_of_symbol = xmalloc(nstrings * sizeof(int64_t));
    memset(strs.index_of_symbol, 0xff, nstrings * sizeof(int64_t));
    add_literal(&strs, "");
    int64_t samples = add_literal(&strs, "samples"), count = add_literal(&strs, "count");
    int64_t wall = add_literal(&strs, "wall"), nanoseconds = add_literal(&strs, "nanoseconds");
    put_value_type(out, PROFILE_SAMPLE_TYPE, samples, count, &scratch);
    put_value_type(out, PROFILE_SAMPLE_TYPE, wall, nanoseconds, &scratch);
    put_value_type(out, PROFILE_PERIOD_TYPE, wall, nanoseconds, &scratch);
    pb_uint(out, PROFILE_PERIOD, p->stats.interval_ns);
    pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, (uint64_t)wall);
    pb_uint(out, PROFILE_TIME_NANOS, p->stats.start_unix_ns);
    pb_uint(out, PROFILE_DURATION_NANOS,
            p->stats.end_ns > p->stats.start_ns ? p->stats.end_ns - p->stats.start_ns : 0);
    char comment[160];
    snprintf(comment, sizeof(comment), "strobe %s, pid %d, %s", STROBE_VERSION, (int)p->pid,
             p->target[0] ? p->target : "CPython");
    pb_uint(out, PROFILE_COMMENT, (uint64_t)add_literal(&strs, comment));

    uint32_t *function_of_frame = put_functions(out, &strs, &p->symbols, &scratch);
    put_locations(out, &p->symbols, function_of_frame, &scratch);
    put_samples(out, &strs, p, &scratch);
    free(function_of_frame);
    free(strs.index_of_symbol);
    pb_free(&scratch);
}

/* gzip `data` into f. A failure leaves f short, which closing it reports. */
static void write_gzip(FILE *f, const uint8_t *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return;
    uint8_t *chunk = xmalloc(GZIP_CHUNK);
    z.next_in = (Bytef *)(uintptr_t)data;
    int flush = Z_NO_FLUSH;
    for (;;) {
        /* avail_in is 32-bit: feed a large profile in pieces. */
        if (z.avail_in == 0 && flush == Z_NO_FLUSH) {
            size_t fed = (size_t)(z.next_in - data);
            size_t piece = MIN(len - fed, (size_t)UINT32_MAX);
            z.avail_in = (uInt)piece;
            if (fed + piece == len)
                flush = Z_FINISH;
        }
        z.next_out = chunk;
        z.avail_out = GZIP_CHUNK;
        int rc = deflate(&z, flush);
        fwrite(chunk, 1, GZIP_CHUNK - z.avail_out, f);
        if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR))
            break;
    }
    free(chunk);
    deflateEnd(&z);
}

void pprof_write(FILE *f, const struct profile *p)
{
    struct pb_buf profile = { 0 };
    build_profile(&profile, p);
    write_gzip(f, profile.data, profile.len);
    pb_free(&profile);
}
