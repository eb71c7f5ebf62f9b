/*
 * snapshot.c — the per-sample read plan; see snapshot.h.
 *
 * The plan is a sorted array of remote byte ranges, each with a place in one
 * local buffer. Every request is served from a range that covers it, or read
 * on demand (whole pages, so that neighbours asked next are served too) and
 * remembered as "wanted". At the end of a sample, wanted ranges join the plan
 * ("grow"); every SNAPSHOT_KEEP_SAMPLES samples each range shrinks to the
 * bytes actually requested during that window and unused ones leave ("trim").
 */
#include "proc/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_ALIGN 8

/* Whole pages fetched on demand this sample, or a range wanted in the plan. */
struct snapshot_miss {
    uint64_t page_start;
    uint32_t npages;
    uint32_t buf_page;          /* index into miss_buf, in pages */
};

struct snapshot_interval {
    uint64_t start, end, used_lo, used_hi;
    uint32_t last_use;
    bool late;
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
    memset(s, 0, sizeof(*s));
}

void snapshot_reset(struct snapshot *s)
{
    s->nranges = 0;
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

/* Read every planned range, dropping those that fail. */
static enum remote_status read_plan(struct snapshot *s)
{
    s->nmisses = 0;
    s->miss_pages_used = 0;
    s->last_error = REMOTE_OK;
    for (size_t i = 0; i < s->nranges; i++)
        s->ranges[i].valid = false;
    size_t next = 0;
    while (next < s->nranges) {
        size_t done = 0;
        enum remote_status st = remote_readv(s->remote, s->iov_local + next, s->iov_remote + next,
                                             s->nranges - next, &done);
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

enum remote_status snapshot_begin(struct snapshot *s)
{
    s->sample_no++;
    s->stats.samples++;
    s->nwanted = 0;
    return read_plan(s);
}

enum remote_status snapshot_refresh(struct snapshot *s)
{
    s->stats.refreshes++;
    return read_plan(s);
}

/* The last range starting at or before addr, or NULL. Consecutive requests
 * mostly fall in the same range (the frames of one stack): try it first. */
static struct snapshot_range *find_range(struct snapshot *s, uint64_t addr)
{
    if (s->hint < s->nranges && addr >= s->ranges[s->hint].start && addr < s->ranges[s->hint].end)
        return &s->ranges[s->hint];
    size_t lo = 0, hi = s->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return NULL;
    s->hint = lo - 1;
    return &s->ranges[lo - 1];
}

static const void *from_plan(struct snapshot *s, uint64_t addr, size_t len, bool late)
{
    struct snapshot_range *r = find_range(s, addr);
    if (!r || addr + len > r->end || !r->valid || (late && !r->late))
        return NULL;
    r->used_lo = MIN(r->used_lo, addr);
    r->used_hi = MAX(r->used_hi, addr + len);
    r->last_use = s->sample_no;
    return s->buf + r->buf_offset + (addr - r->start);
}

static const void *from_misses(struct snapshot *s, uint64_t addr, size_t len)
{
    for (size_t i = 0; i < s->nmisses; i++) {
        const struct snapshot_miss *m = &s->misses[i];
        uint64_t end = m->page_start + ((uint64_t)m->npages << s->page_shift);
        if (addr >= m->page_start && addr + len <= end)
            return s->miss_buf + ((size_t)m->buf_page << s->page_shift) + (addr - m->page_start);
    }
    return NULL;
}

/* Remember [addr, addr+len) for the plan, with room to grow within its page. */
static void want(struct snapshot *s, uint64_t addr, size_t len, bool late)
{
    uint64_t end = addr + len;
    uint64_t page_end = page_of(s, end - 1) + s->page_size;
    uint64_t planned_end = MIN(end + SNAPSHOT_GROWTH_SLACK, page_end);
    s->wanted = xgrow(s->wanted, &s->wanted_cap, s->nwanted + 1, sizeof(*s->wanted));
    s->wanted[s->nwanted++] = (struct snapshot_interval){ addr, planned_end, addr, end, s->sample_no, late };
    s->plan_dirty = true;
}

static const void *read_miss(struct snapshot *s, uint64_t addr, size_t len)
{
    uint64_t start = page_of(s, addr);
    uint64_t npages = (page_of(s, addr + len - 1) - start) / s->page_size + 1;
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

const void *snapshot_get_slow(struct snapshot *s, uint64_t addr, size_t len, bool late)
{
    if (addr == 0 || len == 0 || len > SNAPSHOT_MAX_REQUEST || addr + len < addr)
        return NULL;
    const void *p = from_plan(s, addr, len, late);
    if (likely(p != NULL)) {
        s->stats.hits++;
        return p;
    }
    s->stats.misses++;
    /* A late value must be read after the plan: never from pages fetched
     * earlier in the sample. */
    p = late ? NULL : from_misses(s, addr, len);
    if (!p)
        p = read_miss(s, addr, len);
    if (p)
        want(s, addr, len, late);
    return p;
}

const void *snapshot_get_late(struct snapshot *s, uint64_t addr, size_t len)
{
    return snapshot_get_slow(s, addr, len, true);
}

static int cmp_interval(const void *a, const void *b)
{
    const struct snapshot_interval *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (int)x->late - (int)y->late;
}

/* Can b (starting at or after a) be read with a's iovec? */
static bool mergeable(const struct snapshot *s, const struct snapshot_interval *a, const struct snapshot_interval *b)
{
    return a->late == b->late && b->start <= a->end + SNAPSHOT_MERGE_GAP &&
           page_of(s, b->start) <= page_of(s, a->end - 1) + s->page_size;
}

/* The ranges to keep (whole, or trimmed to what was used this window) plus
 * the wanted ones, sorted and merged. */
static size_t collect_intervals(struct snapshot *s, bool trim, struct snapshot_interval **out)
{
    struct snapshot_interval *iv = xmalloc(MAX(s->nranges + s->nwanted, 1) * sizeof(*iv));
    size_t n = 0;
    for (size_t i = 0; i < s->nranges; i++) {
        const struct snapshot_range *r = &s->ranges[i];
        if ((uint32_t)(s->sample_no - r->last_use) >= SNAPSHOT_KEEP_SAMPLES)
            continue;
        struct snapshot_interval v = { r->start, r->end, r->used_lo, r->used_hi, r->last_use, r->late };
        if (trim) {
            if (r->used_lo >= r->used_hi)
                continue;
            v.start = r->used_lo;
            v.end = r->used_hi;
            v.used_lo = UINT64_MAX;
            v.used_hi = 0;
        }
        iv[n++] = v;
    }
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
            last->last_use = (uint32_t)(s->sample_no - last->last_use) <
                                     (uint32_t)(s->sample_no - iv[i].last_use)
                                 ? last->last_use : iv[i].last_use;
        } else {
            iv[merged++] = iv[i];
        }
    }
    *out = iv;
    return merged;
}

static void rebuild_plan(struct snapshot *s, bool trim)
{
    struct snapshot_interval *iv;
    size_t n = collect_intervals(s, trim, &iv);
    s->ranges = xgrow(s->ranges, &s->ranges_cap, MAX(n, 1), sizeof(*s->ranges));
    size_t offset = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bytes = (size_t)(iv[i].end - iv[i].start);
        if (offset + bytes > SNAPSHOT_MAX_PLAN_BYTES)
            continue;   /* over the bound: these stay misses */
        s->ranges[kept++] = (struct snapshot_range){
            .start = iv[i].start, .end = iv[i].end, .buf_offset = offset,
            .used_lo = iv[i].used_lo, .used_hi = iv[i].used_hi,
            .last_use = iv[i].last_use, .late = iv[i].late,
        };
        offset += (bytes + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
    }
    free(iv);
    s->nranges = kept;
    s->plan_bytes = offset;
    s->hint = 0;
    s->buf = xgrow(s->buf, &s->buf_cap, MAX(offset, 1), 1);
    if (s->iov_cap < kept) {
        s->iov_local = xrealloc(s->iov_local, kept * sizeof(*s->iov_local));
        s->iov_remote = xrealloc(s->iov_remote, kept * sizeof(*s->iov_remote));
        s->iov_range = xrealloc(s->iov_range, kept * sizeof(*s->iov_range));
        s->iov_cap = kept;
    }
    size_t k = 0;
    for (int late = 0; late <= 1; late++) {
        for (size_t i = 0; i < kept; i++) {
            const struct snapshot_range *r = &s->ranges[i];
            if (r->late != (bool)late)
                continue;
            size_t bytes = (size_t)(r->end - r->start);
            s->iov_local[k] = (struct iovec){ s->buf + r->buf_offset, bytes };
            s->iov_remote[k] = (struct iovec){ (void *)(uintptr_t)r->start, bytes };
            s->iov_range[k++] = (uint32_t)i;
        }
    }
    s->stats.rebuilds++;
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
