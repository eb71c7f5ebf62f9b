/*
 * snapshot.h — one batched read of everything a sample needs.
 *
 * Why: a process_vm_readv call costs about a microsecond, and each remote
 * range in it a quarter of one more (the kernel pins every page it copies);
 * bytes the target is busy writing cost extra again, as their cache lines
 * move between cores. Reading the thread states, frames and code-object
 * headers of a sample one by one would take tens of system calls. Instead
 * strobe keeps a *plan*: the byte ranges the previous samples needed. At the
 * start of a sample the whole plan is read with one process_vm_readv (ranges
 * close together merged into one iovec), and the interpreter model then asks
 * for addresses as if it were reading memory at random. Anything the plan
 * did not cover is fetched on demand (a "miss") and joins the plan for the
 * next sample; bytes no sample touched for a while leave it. In steady state
 * a sample is one system call.
 *
 * Pointers returned by snapshot_get are valid until snapshot_end. The data is
 * a copy taken while the target runs: callers validate everything they read.
 */
#ifndef STROBE_PROC_SNAPSHOT_H
#define STROBE_PROC_SNAPSHOT_H

#include "proc/memory.h"

/* Upper bound on the bytes read every sample (thousands of deep stacks). */
#define SNAPSHOT_MAX_PLAN_BYTES (16u * 1024 * 1024)
/* Bound on pages fetched on demand within one sample. */
#define SNAPSHOT_MAX_MISS_PAGES 2048
/* Bytes no sample touched for this many samples leave the plan. */
#define SNAPSHOT_KEEP_SAMPLES 64
/* Largest single request; larger objects are read with remote_read. */
#define SNAPSHOT_MAX_REQUEST (64u * 1024)
/* Requests this close together (and at most a page apart) share an iovec:
 * copying a few spare cache lines is cheaper than another range. */
#define SNAPSHOT_MERGE_GAP 2048
/* A range that missed is planned with this much room after it (within its
 * page), for a stack that grows by a frame or two. */
#define SNAPSHOT_GROWTH_SLACK 512

struct snapshot_stats {
    uint64_t samples;
    uint64_t hits;          /* requests served from the plan */
    uint64_t misses;        /* requests that needed their own read */
    uint64_t rebuilds;      /* times the plan changed */
    uint64_t failed_ranges; /* planned ranges that turned out unmapped */
    uint64_t refreshes;     /* second reads within a sample */
};

struct snapshot_miss;
struct snapshot_interval;

struct snapshot {
    struct remote *remote;
    size_t page_size;
    unsigned page_shift;

    /* The plan: ranges sorted by address, each read into buf at its own
     * offset; iovecs in reading order (late ranges last). */
    struct snapshot_range *ranges;
    size_t nranges, ranges_cap;
    size_t plan_bytes;
    uint8_t *buf;
    size_t buf_cap;
    struct iovec *iov_local, *iov_remote;
    uint32_t *iov_range;            /* the range each iovec reads */
    size_t iov_cap;
    size_t hint;                    /* the range the last request fell in */

    /* Pages fetched on demand during the current sample, and the exact
     * requests behind them (what joins the plan). */
    struct snapshot_miss *misses;
    size_t nmisses, misses_cap;
    uint8_t *miss_buf;              /* SNAPSHOT_MAX_MISS_PAGES pages, lazily allocated */
    size_t miss_pages_used;
    struct snapshot_interval *wanted;   /* requests to add to the plan */
    size_t nwanted, wanted_cap;

    uint32_t sample_no;
    bool plan_dirty;
    enum remote_status last_error;  /* worst status seen this sample */
    struct snapshot_stats stats;
};

void snapshot_init(struct snapshot *s, struct remote *r);
void snapshot_free(struct snapshot *s);

/* Read the plan. Returns REMOTE_GONE or REMOTE_DENIED if the target can no
 * longer be read at all; unmapped planned ranges only count as misses. */
enum remote_status snapshot_begin(struct snapshot *s);

/* A planned range: remote [start, end), read into buf at buf_offset. */
struct snapshot_range {
    uint64_t start, end;
    size_t buf_offset;
    uint64_t used_lo, used_hi;  /* remote bytes requested this window; lo > hi if none */
    uint32_t last_use;          /* sample number of the last request served */
    bool valid;                 /* read completely this sample */
    bool late;                  /* read after every other range */
};

const void *snapshot_get_slow(struct snapshot *s, uint64_t addr, size_t len, bool late);

/* `len` bytes at `addr` as of this sample, or NULL if they cannot be read.
 * Inline for the common case: the same range as the previous request. */
static inline const void *snapshot_get(struct snapshot *s, uint64_t addr, size_t len)
{
    if (likely(s->hint < s->nranges)) {
        struct snapshot_range *r = &s->ranges[s->hint];
        if (addr >= r->start && addr + len <= r->end && addr + len > addr && r->valid) {
            if (addr < r->used_lo)
                r->used_lo = addr;
            if (addr + len > r->used_hi)
                r->used_hi = addr + len;
            r->last_use = s->sample_no;
            s->stats.hits++;
            return s->buf + r->buf_offset + (addr - r->start);
        }
    }
    return snapshot_get_slow(s, addr, len, false);
}

/*
 * The same, and from the next sample on, read these bytes *after* everything
 * else in the plan. For values that must be as recent as any other data of
 * the sample, e.g. a counter proving that nothing read earlier was replaced.
 */
const void *snapshot_get_late(struct snapshot *s, uint64_t addr, size_t len);

/* Read the plan again, within the same sample, for a second look at data
 * that was caught changing. Earlier pointers stay valid but now show the new
 * data; pages fetched on demand are forgotten (fetched afresh if asked). */
enum remote_status snapshot_refresh(struct snapshot *s);

/* Adapt the plan to what this sample needed. */
void snapshot_end(struct snapshot *s);

/* Forget the plan entirely (e.g. after the target exec'd). */
void snapshot_reset(struct snapshot *s);

static inline bool snapshot_get_u64(struct snapshot *s, uint64_t addr, uint64_t *out)
{
    const uint64_t *p = snapshot_get(s, addr, sizeof(*out));
    if (!p)
        return false;
    __builtin_memcpy(out, p, sizeof(*out));
    return true;
}

#endif
