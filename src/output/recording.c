/*
 * recording.c — writing and reading the binary recording; see recording.h
 * and docs/recording.md.
 *
 * Both sides walk the profile's tables in creation order. The writer keeps
 * how many strings, frames and call-tree nodes it has already written and,
 * after each round, writes the new ones; the reader recreates them through
 * the same interning functions and checks that each lands on the id it had,
 * which also rejects a file that tries to define a thing twice.
 */
#include "output/recording.h"

#include "base/clock.h"
#include "base/utf8.h"
#include "output/protobuf.h"
#include "python/frames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static const char RECORDING_MAGIC[8] = { 'S', 'T', 'R', 'O', 'B', 'R', 'E', 'C' };
#define HEADER_BYTES 16             /* magic, u32 version, u32 flags */
#define BLOCK_HEADER_BYTES 8        /* u32 raw length, u32 compressed length */
#define BLOCK_TARGET_BYTES ((size_t)256 * 1024)
#define BLOCK_MAX_BYTES ((size_t)16 * 1024 * 1024)  /* the reader's limit, raw and compressed */
#define RECORDING_FLUSH_NS NS_PER_SEC
#define ZSTD_LEVEL 3
/* No stack strobe records is deeper than the frame walker's limit, plus the
 * thread root and a truncation marker: deeper is damage. */
#define RECORDING_MAX_DEPTH (PY_MAX_STACK_DEPTH + 2)

enum record_type {
    REC_META = 1,       /* pid, interval_ns, start_unix_ns */
    REC_STRING,         /* length, bytes: the next string id */
    REC_FRAME,          /* file string, name string, line, first line: the next frame id */
    REC_ROOT,           /* tid, name length, name: the next node, a new thread's root */
    REC_NODE,           /* parent node, frame: the next node */
    REC_ROUND,          /* ns since the previous round (the first: since the start) */
    REC_SAMPLE,         /* node, weight ns: one thread's stack in the current round */
    REC_ERRORS,         /* error kind, how many more since the last record of it */
    REC_END,            /* the totals (see write_end) */
    REC_MISSED_WAITING, /* of END's missed rounds, those due while strobe
                           waited for its time (written just before END) */
};

/* Records are built in a protobuf buffer (output/protobuf.h): the same
 * growable bytes, and the same varints (pb_varint). */
static void put_byte(struct pb_buf *b, uint8_t v)
{
    b->data = xgrow(b->data, &b->cap, b->len + 1, 1);
    b->data[b->len++] = v;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void put_string(struct pb_buf *b, const char *s, size_t len)
{
    pb_varint(b, len);
    b->data = xgrow(b->data, &b->cap, b->len + len, 1);
    memcpy(b->data + b->len, s, len);
    b->len += len;
}

static void put_u32_le(uint8_t *out, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32_le(const uint8_t *in)
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

/* ---- writing ---- */

struct recorder {
    FILE *f;
    bool failed;
    int failed_errno;
    bool meta_written;
    size_t strings, frames, nodes;      /* already written */
    uint64_t rounds, last_round_ns, last_flush_ns;
    uint64_t errors[SAMPLE_ERROR_COUNT];
    struct pb_buf raw;                   /* records not yet in a block */
    ZSTD_CCtx *zstd;
    struct pb_buf packed;
};

static void write_raw(struct recorder *r, const void *data, size_t len)
{
    if (!r->failed && fwrite(data, 1, len, r->f) != len) {
        r->failed = true;
        r->failed_errno = errno;
    }
}

/* Compress what is buffered into one block and push it to the file. */
static void flush_block(struct recorder *r)
{
    if (!r->raw.len)
        return;
    size_t bound = ZSTD_compressBound(r->raw.len);
    r->packed.data = xgrow(r->packed.data, &r->packed.cap, bound + BLOCK_HEADER_BYTES, 1);
    size_t n = ZSTD_compressCCtx(r->zstd, r->packed.data + BLOCK_HEADER_BYTES, bound,
                                 r->raw.data, r->raw.len, ZSTD_LEVEL);
    if (ZSTD_isError(n)) {
        r->failed = true;
        r->failed_errno = EIO;
        return;
    }
    put_u32_le(r->packed.data, (uint32_t)r->raw.len);
    put_u32_le(r->packed.data + 4, (uint32_t)n);
    write_raw(r, r->packed.data, n + BLOCK_HEADER_BYTES);
    if (!r->failed && fflush(r->f) != 0) {
        r->failed = true;
        r->failed_errno = errno;
    }
    r->raw.len = 0;
}

struct recorder *recorder_open(const char *path, struct profile *p, char *err, size_t errlen)
{
    /* "-": streamed to standard output, which it then has to itself. */
    bool to_stdout = strcmp(path, "-") == 0;
    int out_fd = to_stdout ? dup(STDOUT_FILENO) : -1;
    FILE *f = to_stdout ? (out_fd >= 0 ? fdopen(out_fd, "wb") : NULL) : fopen(path, "wbe");
    if (!f) {
        snprintf(err, errlen, "cannot write the recording %s: %s",
                 to_stdout ? "to standard output" : path, strerror(errno));
        if (out_fd >= 0)
            close(out_fd);
        return NULL;
    }
    struct recorder *r = xcalloc(1, sizeof(*r));
    r->f = f;
    r->zstd = ZSTD_createCCtx();
    r->strings = p->symbols.strings.count;
    r->frames = p->symbols.count;
    r->nodes = p->tree.count;
    p->tree.log.enabled = true;
    uint8_t header[HEADER_BYTES];
    memcpy(header, RECORDING_MAGIC, sizeof(RECORDING_MAGIC));
    put_u32_le(header + 8, RECORDING_VERSION);
    put_u32_le(header + 12, 0);
    write_raw(r, header, sizeof(header));
    return r;
}

/* The strings, frames and nodes the profile gained since the last round. */
static void write_new_tables(struct recorder *r, const struct profile *p)
{
    const struct symbols *s = &p->symbols;
    for (; r->strings < s->strings.count; r->strings++) {
        put_byte(&r->raw, REC_STRING);
        put_string(&r->raw, strtab_get(&s->strings, (uint32_t)r->strings),
                   strtab_len(&s->strings, (uint32_t)r->strings));
    }
    for (; r->frames < s->count; r->frames++) {
        const struct frame_sym *fs = symbols_get(s, (uint32_t)r->frames);
        put_byte(&r->raw, REC_FRAME);
        pb_varint(&r->raw, fs->file);
        pb_varint(&r->raw, fs->name);
        pb_varint(&r->raw, zigzag(fs->line));
        pb_varint(&r->raw, zigzag(fs->first_line));
    }
    const struct calltree *t = &p->tree;
    for (; r->nodes < t->count; r->nodes++) {
        const struct call_node *n = &t->nodes[r->nodes];
        if (n->parent == ID_NONE) {
            const struct calltree_thread *th = &t->threads[n->thread];
            put_byte(&r->raw, REC_ROOT);
            pb_varint(&r->raw, th->tid);
            put_string(&r->raw, th->name, strlen(th->name));
        } else {
            put_byte(&r->raw, REC_NODE);
            pb_varint(&r->raw, n->parent);
            pb_varint(&r->raw, n->frame);
        }
    }
}

void recorder_round(struct recorder *r, struct profile *p, uint64_t now_ns)
{
    struct calltree_log *log = &p->tree.log;
    if (!r->meta_written) {
        put_byte(&r->raw, REC_META);
        pb_varint(&r->raw, (uint64_t)p->pid);
        pb_varint(&r->raw, p->stats.interval_ns);
        pb_varint(&r->raw, p->stats.start_unix_ns);
        r->meta_written = true;
        r->last_round_ns = p->stats.start_ns;
        r->last_flush_ns = now_ns;
    }
    if (p->stats.samples > r->rounds || log->count) {
        write_new_tables(r, p);
        put_byte(&r->raw, REC_ROUND);
        pb_varint(&r->raw, now_ns > r->last_round_ns ? now_ns - r->last_round_ns : 0);
        r->last_round_ns = now_ns;
        r->rounds = p->stats.samples;
        for (size_t i = 0; i < log->count; i++) {
            put_byte(&r->raw, REC_SAMPLE);
            pb_varint(&r->raw, log->items[i].node);
            pb_varint(&r->raw, log->items[i].ns);
        }
        for (int e = 0; e < SAMPLE_ERROR_COUNT; e++) {
            if (p->stats.errors[e] > r->errors[e]) {
                put_byte(&r->raw, REC_ERRORS);
                pb_varint(&r->raw, (uint64_t)e);
                pb_varint(&r->raw, p->stats.errors[e] - r->errors[e]);
                r->errors[e] = p->stats.errors[e];
            }
        }
    }
    log->count = 0;
    if (r->raw.len >= BLOCK_TARGET_BYTES || now_ns - r->last_flush_ns >= RECORDING_FLUSH_NS) {
        flush_block(r);
        r->last_flush_ns = now_ns;
    }
}

static void write_end(struct recorder *r, const struct profile *p)
{
    const struct profile_stats *st = &p->stats;
    put_byte(&r->raw, REC_MISSED_WAITING);
    pb_varint(&r->raw, st->missed_waiting);
    put_byte(&r->raw, REC_END);
    const uint64_t fields[] = {
        st->samples, st->missed, st->thread_samples, st->thread_errors, st->truncated,
        st->start_ns, st->end_ns, st->interval_ns, st->start_unix_ns, st->depth_limit,
        st->max_threads, (uint64_t)p->stop, (uint64_t)p->pid,
    };
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        pb_varint(&r->raw, fields[i]);
    for (int e = 0; e < SAMPLE_ERROR_COUNT; e++)
        pb_varint(&r->raw, st->errors[e]);
    put_string(&r->raw, p->target, strlen(p->target));
    put_string(&r->raw, p->python, strlen(p->python));
}

bool recorder_finish(struct recorder *r, struct profile *p, char *err, size_t errlen)
{
    /* Whatever the last round left, then the totals. */
    if (!r->meta_written || p->stats.samples > r->rounds || p->tree.log.count)
        recorder_round(r, p, p->stats.end_ns);
    p->tree.log.enabled = false;
    write_new_tables(r, p);
    write_end(r, p);
    flush_block(r);
    bool ok = !r->failed;
    int saved = r->failed_errno;
    if (fclose(r->f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        snprintf(err, errlen, "writing the recording failed: %s", strerror(saved));
    ZSTD_freeCCtx(r->zstd);
    free(r->raw.data);
    free(r->packed.data);
    free(r);
    return ok;
}

/* ---- reading ---- */

/* A cursor over one decompressed block; any overrun sets `bad`. */
struct cursor {
    const uint8_t *p, *end;
    bool bad;
};

static uint64_t get_varint(struct cursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) {
            c->bad = true;
            return 0;
        }
        uint8_t byte = *c->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

/* A length-prefixed string, at most `max` bytes; NULL (and bad) if not. */
static const char *get_string(struct cursor *c, size_t max, size_t *len)
{
    uint64_t n = get_varint(c);
    if (c->bad || n > max || n > (uint64_t)(c->end - c->p)) {
        c->bad = true;
        return NULL;
    }
    const char *s = (const char *)c->p;
    c->p += n;
    *len = (size_t)n;
    return s;
}

struct replay {
    struct profile *p;
    recording_sample_fn on_sample;
    void *ctx;
    uint64_t time_ns;       /* of the current round, since the start */
    bool in_round, ended;
};

static bool read_string_record(struct cursor *c, struct profile *p)
{
    size_t len = 0;
    const char *s = get_string(c, BLOCK_MAX_BYTES, &len);
    /* Names strobe read from a target are text (python/strings.c): other
     * bytes would break the outputs (a collapsed stack over two lines, a
     * pstats file Python cannot decode, escapes sent to a terminal). */
    if (!s || !utf8_is_text(s, len))
        return false;
    size_t before = p->symbols.strings.count;
    return strtab_intern(&p->symbols.strings, s, len) == before;
}

static bool read_frame_record(struct cursor *c, struct profile *p)
{
    uint64_t file = get_varint(c), name = get_varint(c);
    int64_t line = unzigzag(get_varint(c)), first = unzigzag(get_varint(c));
    size_t strings = p->symbols.strings.count, before = p->symbols.count;
    if (c->bad || file >= strings || name >= strings || line < INT32_MIN || line > INT32_MAX ||
        first < INT32_MIN || first > INT32_MAX)
        return false;
    return symbols_frame(&p->symbols, (uint32_t)file, (uint32_t)name, (int32_t)line,
                         (int32_t)first) == before;
}

static bool read_root_record(struct cursor *c, struct profile *p)
{
    uint64_t tid = get_varint(c);
    size_t len = 0;
    const char *name = get_string(c, THREAD_NAME_MAX - 1, &len);
    struct calltree *t = &p->tree;
    size_t before = t->count;
    if (!name || calltree_root(t, tid) != before)
        return false;
    /* Cleaned as process_thread_name cleans the kernel's: older
     * recordings hold them as the kernel gave them. */
    utf8_clean((const unsigned char *)name, len, t->threads[t->nthreads - 1].name,
               THREAD_NAME_MAX);
    return true;
}

static bool read_node_record(struct cursor *c, struct profile *p)
{
    uint64_t parent = get_varint(c), frame = get_varint(c);
    struct calltree *t = &p->tree;
    size_t before = t->count;
    if (c->bad || parent >= before || frame >= p->symbols.count ||
        t->nodes[parent].depth >= RECORDING_MAX_DEPTH)
        return false;
    return calltree_child(t, (uint32_t)parent, (uint32_t)frame) == before;
}

static bool read_sample_record(struct cursor *c, struct replay *rp)
{
    uint64_t node = get_varint(c), ns = get_varint(c);
    struct profile *p = rp->p;
    /* A stack has at least one frame: a sample never lands on a root. */
    if (c->bad || !rp->in_round || node >= p->tree.count ||
        p->tree.nodes[node].parent == ID_NONE)
        return false;
    calltree_add(&p->tree, (uint32_t)node, 1, ns);
    p->stats.thread_samples++;
    if (rp->on_sample) {
        struct recorded_sample s = { rp->time_ns, (uint32_t)node, ns };
        rp->on_sample(rp->ctx, p, &s);
    }
    return true;
}

static bool read_end_record(struct cursor *c, struct profile *p)
{
    struct profile_stats *st = &p->stats;
    uint64_t *fields[] = {
        &st->samples, &st->missed, &st->thread_samples, &st->thread_errors, &st->truncated,
        &st->start_ns, &st->end_ns, &st->interval_ns, &st->start_unix_ns,
    };
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        *fields[i] = get_varint(c);
    uint64_t depth_limit = get_varint(c), max_threads = get_varint(c);
    uint64_t stop = get_varint(c), pid = get_varint(c);
    for (int e = 0; e < SAMPLE_ERROR_COUNT; e++)
        st->errors[e] = get_varint(c);
    size_t target_len = 0, python_len = 0;
    const char *target = get_string(c, sizeof(p->target) - 1, &target_len);
    const char *python = get_string(c, sizeof(p->python) - 1, &python_len);
    if (c->bad || !target || !python || !utf8_is_text(target, target_len) ||
        !utf8_is_text(python, python_len) || depth_limit > UINT32_MAX || max_threads > UINT32_MAX ||
        stop > STOP_UNLOADED || pid > INT32_MAX || st->missed_waiting > st->missed)
        return false;
    st->depth_limit = (uint32_t)depth_limit;
    st->max_threads = (uint32_t)max_threads;
    p->stop = (enum stop_reason)stop;
    p->pid = (pid_t)pid;
    memcpy(p->target, target, target_len);
    p->target[target_len] = '\0';
    memcpy(p->python, python, python_len);
    p->python[python_len] = '\0';
    return true;
}

/* One record; false if it is damaged or inconsistent. */
static bool read_record(struct cursor *c, struct replay *rp)
{
    struct profile *p = rp->p;
    uint64_t type = get_varint(c);
    if (c->bad || rp->ended)
        return false;
    switch (type) {
    case REC_META: {
        uint64_t pid = get_varint(c), interval = get_varint(c), start_unix = get_varint(c);
        if (c->bad || pid > INT32_MAX)
            return false;
        p->pid = (pid_t)pid;
        p->stats.interval_ns = interval;
        p->stats.start_unix_ns = start_unix;
        return true;
    }
    case REC_STRING:
        return read_string_record(c, p);
    case REC_FRAME:
        return read_frame_record(c, p);
    case REC_ROOT:
        return read_root_record(c, p);
    case REC_NODE:
        return read_node_record(c, p);
    case REC_ROUND: {
        uint64_t delta = get_varint(c);
        if (c->bad || delta > UINT64_MAX - rp->time_ns)
            return false;
        rp->time_ns += delta;
        rp->in_round = true;
        p->stats.samples++;
        p->stats.end_ns = rp->time_ns;
        return true;
    }
    case REC_SAMPLE:
        return read_sample_record(c, rp);
    case REC_ERRORS: {
        uint64_t kind = get_varint(c), count = get_varint(c);
        if (c->bad || kind >= SAMPLE_ERROR_COUNT)
            return false;
        p->stats.errors[kind] += count;
        p->stats.thread_errors += count;
        return true;
    }
    case REC_MISSED_WAITING:
        p->stats.missed_waiting = get_varint(c);
        return !c->bad;
    case REC_END:
        rp->ended = read_end_record(c, p);
        return rp->ended;
    default:
        return false;
    }
}

/* Read and decompress the next block into raw; false at the end of the
 * file or where it is cut short (a strobe that was killed mid-block). */
enum block_status { BLOCK_OK, BLOCK_END, BLOCK_DAMAGED };

static enum block_status next_block(FILE *f, struct pb_buf *packed, struct pb_buf *raw)
{
    uint8_t header[BLOCK_HEADER_BYTES];
    if (fread(header, 1, sizeof(header), f) != sizeof(header))
        return BLOCK_END;
    uint32_t raw_len = get_u32_le(header), packed_len = get_u32_le(header + 4);
    if (raw_len > BLOCK_MAX_BYTES || packed_len > BLOCK_MAX_BYTES)
        return BLOCK_DAMAGED;
    packed->data = xgrow(packed->data, &packed->cap, MAX(packed_len, 1), 1);
    if (fread(packed->data, 1, packed_len, f) != packed_len)
        return BLOCK_END;
    raw->data = xgrow(raw->data, &raw->cap, MAX(raw_len, 1), 1);
    size_t n = ZSTD_decompress(raw->data, raw_len, packed->data, packed_len);
    if (ZSTD_isError(n) || n != raw_len)
        return BLOCK_DAMAGED;
    raw->len = raw_len;
    return BLOCK_OK;
}

/* Blocks are read one at a time: memory grows with the profile, never
 * with the length of the recording. */
static bool replay_stream(FILE *f, struct profile *p, recording_sample_fn on_sample, void *ctx,
                          bool *complete, char *err, size_t errlen)
{
    *complete = false;
    uint8_t header[HEADER_BYTES];
    if (fread(header, 1, sizeof(header), f) != sizeof(header) ||
        memcmp(header, RECORDING_MAGIC, sizeof(RECORDING_MAGIC)) != 0) {
        snprintf(err, errlen, "not a strobe recording (made with --binary or --record)");
        return false;
    }
    uint32_t version = get_u32_le(header + 8);
    if (version != RECORDING_VERSION) {
        snprintf(err, errlen, "recording format version %u is not supported (this strobe reads %d)",
                 version, RECORDING_VERSION);
        return false;
    }
    struct replay rp = { p, on_sample, ctx, 0, false, false };
    struct pb_buf packed = { 0 }, raw = { 0 };
    size_t block = 0;
    enum block_status bs;
    bool ok = true;
    while (ok && (bs = next_block(f, &packed, &raw)) == BLOCK_OK) {
        block++;
        struct cursor c = { raw.data, raw.data + raw.len, false };
        while (ok && c.p < c.end)
            ok = read_record(&c, &rp);
    }
    if (ok && bs == BLOCK_DAMAGED) {
        block++;
        ok = false;
    }
    free(packed.data);
    free(raw.data);
    if (!ok) {
        snprintf(err, errlen, "the recording is damaged (block %zu)", block);
        return false;
    }
    *complete = rp.ended;
    return true;
}

bool recording_replay_buffer(const uint8_t *data, size_t len, struct profile *p,
                             recording_sample_fn on_sample, void *ctx, bool *complete,
                             char *err, size_t errlen)
{
    static const uint8_t empty[1];
    FILE *f = fmemopen((void *)(uintptr_t)(len ? data : empty), MAX(len, 1), "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read the recording: %s", strerror(errno));
        return false;
    }
    if (!len)
        (void)fgetc(f);     /* an empty buffer: fmemopen needs one byte */
    bool ok = replay_stream(f, p, on_sample, ctx, complete, err, errlen);
    fclose(f);
    return ok;
}

bool recording_replay(const char *path, struct profile *p, recording_sample_fn on_sample,
                      void *ctx, bool *complete, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = replay_stream(f, p, on_sample, ctx, complete, err, errlen);
    if (ok && ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        ok = false;
    }
    fclose(f);
    return ok;
}
