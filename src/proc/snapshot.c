/*
 * snapshot.c — the per-sample read plan; see snapshot.h.
 *
 * The plan is an array of remote byte ranges sorted by (phase, address), each
 * with a place in one local buffer. Every request is served from a range of
 * its phase that covers it, or read on demand (MAIN: whole pages, so that
 * neighbours asked next are served too) and remembered as "wanted". At the
 * end of a sample, wanted ranges join the plan ("grow"); every
 * SNAPSHOT_KEEP_SAMPLES samples each range shrinks to the bytes actually
 * requested during that window and unused ones leave ("trim").
 */
#include "proc/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_ALIGN 8

/* Whole pages fetched on demand this sample. */
struct snapshot_miss {
    uint64_t page_start;
    uint32_t npages;
    uint32_t buf_page;          /* index into miss_buf, in pages */
};

/* A range to plan, before merging. */
struct snapshot_interval {
    uint64_t start, end, used_lo, used_hi;
    uint32_t last_use;
    uint32_t rank;
    uint8_t phase;
    uint8_t watch, watch_seen;
};

void snapshot_init(struct snapshot *s, struct remote *r)
{
    memset(s, 0, sizeof(*s));
    s->remote = r;
    long ps = sysconf(_SC_PAGESIZE);
    s->page_size = ps > 0 ? (size_t)ps : 4096;
    s->page_shift = (unsigned)__builtin_ctzl(s->page_size);
}

void snapshot_free(struct snapshot *s)
{
    free(s->ranges);
    free(s->buf);
    free(s->iov_local);
    free(s->iov_remote);
    free(s->iov_range);
    free(s->misses);
    free(s->miss_buf);
    free(s->wanted);
    free(s->ranked);
    memset(s, 0, sizeof(*s));
}

void snapshot_reset(struct snapshot *s)
{
    s->nranges = 0;
    s->niov = 0;
    memset(s->phase_begin, 0, sizeof(s->phase_begin));
    s->watched_iov_begin = 0;
    s->plan_bytes = 0;
    s->nmisses = 0;
    s->nwanted = 0;
    s->miss_pages_used = 0;
    s->plan_dirty = false;
}

static uint64_t page_of(const struct snapshot *s, uint64_t addr)
{
    return addr & ~(uint64_t)(s->page_size - 1);
}

/* A planned range that cannot be read any more leaves the plan. */
static void drop_range(struct snapshot *s, struct snapshot_range *r)
{
    r->last_use = s->sample_no - SNAPSHOT_KEEP_SAMPLES;
    r->used_lo = UINT64_MAX;
    r->used_hi = 0;
    s->stats.failed_ranges++;
    s->plan_dirty = true;
}

/* Read the iovecs [first, end) of the reading order, dropping ranges that
 * fail. */
static enum remote_status read_iovecs(struct snapshot *s, size_t first, size_t end)
{
    s->reads++;
    s->last_error = REMOTE_OK;
    for (size_t i = first; i < end; i++)
        s->ranges[s->iov_range[i]].valid = false;
    size_t next = first;
    while (next < end) {
        size_t done = 0;
        enum remote_status st = remote_readv(s->remote, s->iov_local + next, s->iov_remote + next,
                                             end - next, &done);
        for (size_t i = next; i < next + done; i++)
            s->ranges[s->iov_range[i]].valid = true;
        if (st == REMOTE_OK)
            break;
        if (st == REMOTE_GONE || st == REMOTE_DENIED) {
            s->last_error = st;
            return st;
        }
        /* Unmapped since it was planned: drop it (it comes back as a miss if
         * still wanted) and go on with the ranges after it. */
        drop_range(s, &s->ranges[s->iov_range[next + done]]);
        next += done + 1;
    }
    return REMOTE_OK;
}

static enum remote_status read_plan(struct snapshot *s)
{
    s->nmisses = 0;
    s->miss_pages_used = 0;
    return read_iovecs(s, 0, s->niov);
}

enum remote_status snapshot_reread_watched(struct snapshot *s)
{
    s->stats.rereads++;
    return read_iovecs(s, s->watched_iov_begin, s->niov);
}

enum remote_status snapshot_begin(struct snapshot *s)
{
    s->sample_no++;
    s->stats.samples++;
    s->stats.plan_ranges += s->nranges;
    s->stats.plan_bytes += s->plan_bytes;
    s->nwanted = 0;
    s->next_rank = 0;
    return read_plan(s);
}

/* The range of `phase` covering [addr, addr+len), or NULL. */
static struct snapshot_range *find_range(struct snapshot *s, enum snapshot_phase phase,
                                         uint64_t addr, size_t len)
{
    size_t lo = s->phase_begin[phase], hi = s->phase_begin[phase + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->phase_begin[phase])
        return NULL;
    struct snapshot_range *r = &s->ranges[lo - 1];
    return addr + len <= r->end && r->valid ? r : NULL;
}

static const void *serve(struct snapshot *s, struct snapshot_range *r, uint64_t addr, size_t len)
{
    r->used_lo = MIN(r->used_lo, addr);
    r->used_hi = MAX(r->used_hi, addr + len);
    r->last_use = s->sample_no;
    s->stats.hits++;
    return s->buf + r->buf_offset + (addr - r->start);
}

/* The bytes if pages fetched on demand (miss i) hold them, else NULL. */
static const void *from_miss(const struct snapshot *s, size_t i, uint64_t addr, size_t len)
{
    const struct snapshot_miss *m = &s->misses[i];
    uint64_t end = m->page_start + ((uint64_t)m->npages << s->page_shift);
    if (addr < m->page_start || addr + len > end)
        return NULL;
    return s->miss_buf + ((size_t)m->buf_page << s->page_shift) + (addr - m->page_start);
}

/* From the pages fetched on demand this sample: first those that served
 * the last such request (a walk asks for neighbours), then the others. */
static const void *from_misses(struct snapshot *s, uint64_t addr, size_t len)
{
    if (s->miss_hint < s->nmisses) {
        const void *p = from_miss(s, s->miss_hint, addr, len);
        if (p)
            return p;
    }
    for (size_t i = 0; i < s->nmisses; i++) {
        const void *p = from_miss(s, i, addr, len);
        if (p) {
            s->miss_hint = i;
            return p;
        }
    }
    return NULL;
}

/* Remember [start, end) for the plan in `phase`. */
static void want(struct snapshot *s, uint64_t start, uint64_t end, uint64_t used_lo,
                 uint64_t used_hi, enum snapshot_phase phase, enum watch_kind kind)
{
    if (s->nwanted >= SNAPSHOT_MAX_WANTED)
        return;     /* planned in a later sample, if still wanted then */
    s->wanted = xgrow(s->wanted, &s->wanted_cap, s->nwanted + 1, sizeof(*s->wanted));
    s->wanted[s->nwanted++] = (struct snapshot_interval){ start, end, used_lo, used_hi,
                                                          s->sample_no, s->next_rank++,
                                                          (uint8_t)phase, (uint8_t)kind,
                                                          (uint8_t)kind };
    s->plan_dirty = true;
}

/* The first and last page boundaries around [addr, addr+len): bytes between
 * them are mapped if any of the request is. */
static void page_bounds(const struct snapshot *s, uint64_t addr, size_t len, uint64_t *lo,
                        uint64_t *hi)
{
    *lo = page_of(s, addr);
    *hi = page_of(s, addr + len - 1) + s->page_size;
}

static const void *read_miss(struct snapshot *s, uint64_t addr, size_t len)
{
    uint64_t start, end;
    page_bounds(s, addr, len, &start, &end);
    uint64_t npages = (end - start) >> s->page_shift;
    if (s->miss_pages_used + npages > SNAPSHOT_MAX_MISS_PAGES)
        return NULL;
    if (!s->miss_buf)
        s->miss_buf = xmalloc((size_t)SNAPSHOT_MAX_MISS_PAGES << s->page_shift);
    uint8_t *dst = s->miss_buf + (s->miss_pages_used << s->page_shift);
    /* Whole pages: any page that holds a byte of a valid range is mapped,
     * and the rest of the page is often asked for next (nearby frames). */
    enum remote_status st = remote_read(s->remote, start, dst, (size_t)npages << s->page_shift);
    if (st != REMOTE_OK) {
        if (st > s->last_error)
            s->last_error = st;
        return NULL;
    }
    s->misses = xgrow(s->misses, &s->misses_cap, s->nmisses + 1, sizeof(*s->misses));
    s->misses[s->nmisses++] = (struct snapshot_miss){ start, (uint32_t)npages,
                                                      (uint32_t)s->miss_pages_used };
    s->miss_pages_used += npages;
    return dst + (addr - start);
}

static bool bad_request(uint64_t addr, size_t len)
{
    return addr == 0 || len == 0 || len > SNAPSHOT_MAX_REQUEST || addr + len < addr;
}

const void *snapshot_get_slow(struct snapshot *s, uint64_t addr, size_t len)
{
    if (bad_request(addr, len))
        return NULL;
    struct snapshot_range *r = find_range(s, PHASE_MAIN, addr, len);
    if (r) {
        s->hint = (size_t)(r - s->ranges);
        return serve(s, r, addr, len);
    }
    s->stats.misses++;
    const void *p = from_misses(s, addr, len);
    if (!p)
        p = read_miss(s, addr, len);
    if (p) {
        /* Planned with room for a stack that grows by a frame or two. */
        uint64_t lo, hi;
        page_bounds(s, addr, len, &lo, &hi);
        want(s, addr, MIN(addr + len + SNAPSHOT_GROWTH_SLACK, hi), addr, addr + len, PHASE_MAIN,
             WATCH_NONE);
    }
    return p;
}

/* Bytes of the plan's `phase` (not MAIN), or NULL after counting a miss. */
static const void *from_phase(struct snapshot *s, enum snapshot_phase phase, uint64_t addr,
                              size_t len)
{
    struct snapshot_range *r = find_range(s, phase, addr, len);
    if (r)
        return serve(s, r, addr, len);
    s->stats.misses++;
    return NULL;
}

const void *snapshot_get_late(struct snapshot *s, uint64_t addr, size_t len)
{
    if (bad_request(addr, len))
        return NULL;
    const void *p = from_phase(s, PHASE_LATE, addr, len);
    if (p)
        return p;
    /* Read on the spot: later than the plan, as a late value must be. Never
     * from pages fetched earlier in the sample. */
    p = read_miss(s, addr, len);
    if (p)
        want(s, addr, addr + len, addr, addr + len, PHASE_LATE, WATCH_NONE);
    return p;
}

/* Bytes of a phase that must be read in its place or not at all. */
static const void *from_phase_or_plan(struct snapshot *s, enum snapshot_phase phase,
                                      uint64_t addr, size_t len)
{
    if (bad_request(addr, len))
        return NULL;
    const void *p = from_phase(s, phase, addr, len);
    if (!p)
        want(s, addr, addr + len, addr, addr + len, phase, WATCH_NONE);
    return p;
}

const void *snapshot_get_first(struct snapshot *s, uint64_t addr, size_t len)
{
    return from_phase_or_plan(s, PHASE_FIRST, addr, len);
}

const void *snapshot_get_middle(struct snapshot *s, uint64_t addr, size_t len)
{
    return from_phase_or_plan(s, PHASE_MIDDLE, addr, len);
}

const void *snapshot_last_copy_slow(struct snapshot *s, uint64_t addr, size_t len,
                                    enum watch_kind kind)
{
    if (kind == WATCH_CENTRE) {
        /* Straight into its place, so that one second look is enough; and
         * a spare second copy, in case its place is a range read twice
         * (marked unused: if not needed, the next trim drops it). */
        want(s, addr, addr + len, addr, addr + len, PHASE_MAIN, WATCH_CENTRE);
        want(s, addr, addr + len, UINT64_MAX, 0, PHASE_WATCH, WATCH_FRAMES);
        return NULL;
    }
    struct snapshot_range *r = find_range(s, PHASE_WATCH, addr, len);
    if (r) {
        s->hint_watch = (size_t)(r - s->ranges);
        snapshot_note_rank(s, r);
        return serve(s, r, addr, len);
    }
    /* The first copy must be placed among the watched ones too (a range
     * fetched on demand is wanted as plain bytes). */
    want(s, addr, addr + len, addr, addr + len, PHASE_MAIN, kind);
    uint64_t lo, hi;
    page_bounds(s, addr, len, &lo, &hi);
    want(s, MAX(lo, addr - MIN(addr, SNAPSHOT_WATCH_SLACK)),
         MIN(hi, addr + len + SNAPSHOT_WATCH_SLACK), addr, addr + len, PHASE_WATCH, kind);
    return NULL;
}

static int cmp_interval(const void *a, const void *b)
{
    const struct snapshot_interval *x = a, *y = b;
    if (x->phase != y->phase)
        return (int)x->phase - (int)y->phase;
    return (x->start > y->start) - (x->start < y->start);
}

/* Can b (starting at or after a) be read with a's iovec? */
static bool mergeable(const struct snapshot *s, const struct snapshot_interval *a,
                      const struct snapshot_interval *b)
{
    return a->phase == b->phase && b->start <= a->end + SNAPSHOT_MERGE_GAP &&
           page_of(s, b->start) <= page_of(s, a->end - 1) + s->page_size;
}

/* The more recent of two sample numbers (they wrap). */
static uint32_t latest(const struct snapshot *s, uint32_t a, uint32_t b)
{
    return (uint32_t)(s->sample_no - a) < (uint32_t)(s->sample_no - b) ? a : b;
}

/* The ranges to keep (whole, or trimmed to what was used this window) plus
 * the wanted ones, sorted by phase and address, and merged. */
static size_t collect_intervals(struct snapshot *s, bool trim, struct snapshot_interval **out)
{
    struct snapshot_interval *iv = xmalloc(MAX(s->nranges + s->nwanted, 1) * sizeof(*iv));
    size_t n = 0;
    for (size_t i = 0; i < s->nranges; i++) {
        const struct snapshot_range *r = &s->ranges[i];
        if ((uint32_t)(s->sample_no - r->last_use) >= SNAPSHOT_KEEP_SAMPLES)
            continue;
        struct snapshot_interval v = { r->start, r->end, r->used_lo, r->used_hi, r->last_use,
                                       r->rank, r->phase, r->watch, r->watch_seen };
        if (trim) {
            if (r->used_lo >= r->used_hi)
                continue;
            v.start = r->used_lo;
            v.end = r->used_hi;
            v.used_lo = UINT64_MAX;
            v.used_hi = 0;
            /* Second copies are kept or dropped by their use alone. */
            if (r->phase == PHASE_MAIN)
                v.watch = r->watch_seen;
            v.watch_seen = WATCH_NONE;
        }
        iv[n++] = v;
    }
    if (s->nwanted)     /* never allocated until something is wanted */
        memcpy(iv + n, s->wanted, s->nwanted * sizeof(*iv));
    n += s->nwanted;
    qsort(iv, n, sizeof(*iv), cmp_interval);
    size_t merged = 0;
    for (size_t i = 0; i < n; i++) {
        struct snapshot_interval *last = merged ? &iv[merged - 1] : NULL;
        if (last && mergeable(s, last, &iv[i])) {
            last->end = MAX(last->end, iv[i].end);
            last->used_lo = MIN(last->used_lo, iv[i].used_lo);
            last->used_hi = MAX(last->used_hi, iv[i].used_hi);
            last->last_use = latest(s, last->last_use, iv[i].last_use);
            last->rank = MIN(last->rank, iv[i].rank);
            last->watch = MAX(last->watch, iv[i].watch);
            last->watch_seen = MAX(last->watch_seen, iv[i].watch_seen);
        } else {
            iv[merged++] = iv[i];
        }
    }
    *out = iv;
    return merged;
}

static void add_read_into(struct snapshot *s, size_t *i, size_t k, size_t offset)
{
    const struct snapshot_range *r = &s->ranges[k];
    size_t bytes = (size_t)(r->end - r->start);
    s->iov_local[*i] = (struct iovec){ s->buf + offset, bytes };
    s->iov_remote[*i] = (struct iovec){ (void *)(uintptr_t)r->start, bytes };
    s->iov_range[*i] = (uint32_t)k;
    (*i)++;
}

static void add_read(struct snapshot *s, size_t *i, size_t k)
{
    add_read_into(s, i, k, s->ranges[k].buf_offset);
}

/* Add the ranges of one phase holding one kind of watched bytes. */
static void add_reads(struct snapshot *s, size_t *i, enum snapshot_phase phase,
                      enum watch_kind kind, bool falling)
{
    size_t begin = s->phase_begin[phase], end = s->phase_begin[phase + 1];
    for (size_t n = 0; n < end - begin; n++) {
        size_t k = falling ? end - 1 - n : begin + n;
        if (s->ranges[k].watch == kind)
            add_read(s, i, k);
    }
}

/* A range's index and rank, to sort by. */
struct snapshot_ranked {
    uint32_t rank;
    uint32_t index;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct snapshot_ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return (x->rank > y->rank) - (x->rank < y->rank);
    return (x->index > y->index) - (x->index < y->index);
}

/* Add the frames' ranges of one phase in the order the walks asked for them
 * (innermost first) or its reverse. */
static void add_frames(struct snapshot *s, size_t *i, enum snapshot_phase phase,
                       bool innermost_first)
{
    size_t begin = s->phase_begin[phase], end = s->phase_begin[phase + 1], n = 0;
    s->ranked = xgrow(s->ranked, &s->ranked_cap, MAX(end - begin, 1), sizeof(*s->ranked));
    struct snapshot_ranked *order = s->ranked;
    for (size_t k = begin; k < end; k++)
        if (s->ranges[k].watch == WATCH_FRAMES)
            order[n++] = (struct snapshot_ranked){ s->ranges[k].rank, (uint32_t)k };
    qsort(order, n, sizeof(*order), cmp_ranked);
    for (size_t j = 0; j < n; j++)
        add_read(s, i, order[innermost_first ? j : n - 1 - j].index);
}

/* Add every range of a phase that holds no second copies, by rising address. */
static void add_phase(struct snapshot *s, size_t *i, enum snapshot_phase phase)
{
    for (enum watch_kind kind = WATCH_NONE; kind <= WATCH_ANCHORS; kind++)
        add_reads(s, i, phase, kind, false);
}

/* The iovecs in reading order (see the phases in snapshot.h): a palindrome
 * of the watched bytes, the anchors innermost and the values copied once at
 * its centre. */
static void order_reads(struct snapshot *s)
{
    size_t i = 0;
    add_phase(s, &i, PHASE_FIRST);
    add_reads(s, &i, PHASE_MAIN, WATCH_NONE, false);
    s->watched_iov_begin = i;
    add_frames(s, &i, PHASE_MAIN, false);
    add_reads(s, &i, PHASE_MAIN, WATCH_ANCHORS, false);
    add_reads(s, &i, PHASE_MAIN, WATCH_CENTRE, false);
    add_phase(s, &i, PHASE_MIDDLE);
    add_reads(s, &i, PHASE_WATCH, WATCH_ANCHORS, true);
    add_frames(s, &i, PHASE_WATCH, true);
    add_reads(s, &i, PHASE_WATCH, WATCH_NONE, true);
    add_phase(s, &i, PHASE_LATE);
    s->niov = i;
}

static void rebuild_plan(struct snapshot *s, bool trim)
{
    struct snapshot_interval *iv;
    size_t n = collect_intervals(s, trim, &iv);
    s->ranges = xgrow(s->ranges, &s->ranges_cap, MAX(n, 1), sizeof(*s->ranges));
    size_t offset = 0, kept = 0;
    memset(s->phase_begin, 0, sizeof(s->phase_begin));
    for (size_t i = 0; i < n; i++) {
        size_t bytes = (size_t)(iv[i].end - iv[i].start);
        if (offset + bytes > SNAPSHOT_MAX_PLAN_BYTES)
            continue;   /* over the bound: these stay misses */
        s->ranges[kept++] = (struct snapshot_range){
            .start = iv[i].start, .end = iv[i].end, .buf_offset = offset,
            .used_lo = iv[i].used_lo, .used_hi = iv[i].used_hi,
            .last_use = iv[i].last_use, .phase = iv[i].phase, .watch = iv[i].watch,
            .watch_seen = iv[i].watch_seen, .placed = iv[i].watch,
            /* Ranked already: a second look in this sample keeps the order. */
            .rank = iv[i].rank, .ranked_sample = s->sample_no,
        };
        s->phase_begin[iv[i].phase + 1] = kept;
        offset += (bytes + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
    }
    free(iv);
    /* Phases with no ranges begin where the previous one ended. */
    for (int p = 1; p <= PHASE_COUNT; p++)
        s->phase_begin[p] = MAX(s->phase_begin[p], s->phase_begin[p - 1]);
    s->nranges = kept;
    s->plan_bytes = offset;
    s->hint = s->phase_begin[PHASE_MAIN];
    s->hint_watch = s->phase_begin[PHASE_WATCH];
    s->buf = xgrow(s->buf, &s->buf_cap, MAX(offset, 1), 1);
    if (s->iov_cap < kept) {
        s->iov_cap = kept;
        s->iov_local = xrealloc(s->iov_local, s->iov_cap * sizeof(*s->iov_local));
        s->iov_remote = xrealloc(s->iov_remote, s->iov_cap * sizeof(*s->iov_remote));
        s->iov_range = xrealloc(s->iov_range, s->iov_cap * sizeof(*s->iov_range));
    }
    order_reads(s);
    s->stats.rebuilds++;
}

enum remote_status snapshot_replan(struct snapshot *s)
{
    rebuild_plan(s, false);
    s->nwanted = 0;
    s->plan_dirty = false;
    s->stats.refreshes++;
    return read_plan(s);
}

void snapshot_end(struct snapshot *s)
{
    /* Trimming shrinks ranges to what a whole window used; doing it less
     * often than every sample keeps a stack that moves from being trimmed
     * to whatever one sample happened to see. */
    bool trim = s->sample_no % SNAPSHOT_KEEP_SAMPLES == 0;
    if (s->plan_dirty || trim)
        rebuild_plan(s, trim);
    s->plan_dirty = false;
}
