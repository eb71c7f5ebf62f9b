/*
 * snapshot.c — the per-sample read plan; see snapshot.h.
 */
#include "proc/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run of consecutive planned pages, read with one iovec. */
struct snapshot_run {
    uint64_t start;         /* remote address of the first page */
    uint32_t first_page;    /* index of that page in s->pages / s->buf */
    uint32_t npages;
    uint32_t valid_pages;   /* leading pages actually read this sample */
};

/* Pages fetched on demand during the current sample. */
struct snapshot_miss {
    uint64_t start;         /* page-aligned remote address */
    uint32_t npages;
    uint32_t buf_page;      /* index into miss_buf, in pages */
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
    free(s->pages);
    free(s->page_last_use);
    free(s->runs);
    free(s->buf);
    free(s->iov_local);
    free(s->iov_remote);
    free(s->misses);
    free(s->miss_buf);
    memset(s, 0, sizeof(*s));
}

void snapshot_reset(struct snapshot *s)
{
    s->npages = 0;
    s->nruns = 0;
    s->nmisses = 0;
    s->miss_pages_used = 0;
    s->plan_dirty = false;
    s->stats.plan_pages = 0;
}

static uint64_t page_of(const struct snapshot *s, uint64_t addr)
{
    return addr & ~(uint64_t)(s->page_size - 1);
}

enum remote_status snapshot_begin(struct snapshot *s)
{
    s->sample_no++;
    s->stats.samples++;
    s->nmisses = 0;
    s->miss_pages_used = 0;
    s->last_error = REMOTE_OK;
    size_t next = 0;
    while (next < s->nruns) {
        size_t done = 0;
        enum remote_status st = remote_readv(s->remote, s->iov_local + next, s->iov_remote + next,
                                             s->nruns - next, &done);
        for (size_t i = next; i < next + done; i++)
            s->runs[i].valid_pages = s->runs[i].npages;
        if (st == REMOTE_OK)
            break;
        if (st == REMOTE_GONE || st == REMOTE_DENIED) {
            for (size_t i = next + done; i < s->nruns; i++)
                s->runs[i].valid_pages = 0;
            s->last_error = st;
            return st;
        }
        /* A planned page is no longer mapped: we cannot tell which from the
         * byte count with certainty, so drop the whole failing run from the
         * plan (its pages come back as misses if still needed) and go on
         * with the runs after it. */
        struct snapshot_run *bad = &s->runs[next + done];
        bad->valid_pages = 0;
        for (uint32_t p = 0; p < bad->npages; p++)
            s->page_last_use[bad->first_page + p] = s->sample_no - SNAPSHOT_KEEP_SAMPLES;
        s->stats.failed_pages += bad->npages;
        s->plan_dirty = true;
        next += done + 1;
    }
    return REMOTE_OK;
}

/* The run containing addr, or NULL. Runs are sorted by start address. */
static struct snapshot_run *find_run(struct snapshot *s, uint64_t addr)
{
    size_t lo = 0, hi = s->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->runs[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &s->runs[lo - 1] : NULL;
}

static const void *from_plan(struct snapshot *s, uint64_t addr, size_t len)
{
    struct snapshot_run *run = find_run(s, addr);
    if (!run)
        return NULL;
    uint64_t first = (addr - run->start) >> s->page_shift;
    uint64_t last = (addr + len - 1 - run->start) >> s->page_shift;
    if (last >= run->valid_pages)
        return NULL;
    for (uint64_t p = first; p <= last; p++)
        s->page_last_use[run->first_page + p] = s->sample_no;
    return s->buf + ((size_t)run->first_page << s->page_shift) + (addr - run->start);
}

static const void *from_misses(struct snapshot *s, uint64_t addr, size_t len)
{
    for (size_t i = 0; i < s->nmisses; i++) {
        const struct snapshot_miss *m = &s->misses[i];
        uint64_t end = m->start + ((uint64_t)m->npages << s->page_shift);
        if (addr >= m->start && addr + len <= end)
            return s->miss_buf + ((size_t)m->buf_page << s->page_shift) + (addr - m->start);
    }
    return NULL;
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
     * and the rest of the page is usually wanted next (neighbouring frames). */
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
    s->plan_dirty = true;
    return dst + (addr - start);
}

const void *snapshot_get(struct snapshot *s, uint64_t addr, size_t len)
{
    if (addr == 0 || len == 0 || len > SNAPSHOT_MAX_REQUEST || addr + len < addr)
        return NULL;
    const void *p = from_plan(s, addr, len);
    if (likely(p != NULL)) {
        s->stats.hits++;
        return p;
    }
    s->stats.misses++;
    p = from_misses(s, addr, len);
    return p ? p : read_miss(s, addr, len);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Rebuild pages/runs/iovecs from the pages still in use plus this sample's
 * misses. */
static void rebuild_plan(struct snapshot *s)
{
    size_t want = s->npages + s->miss_pages_used;
    uint64_t *pages = xmalloc(MAX(want, 1) * sizeof(*pages));
    size_t n = 0;
    for (size_t i = 0; i < s->npages; i++)
        if ((uint32_t)(s->sample_no - s->page_last_use[i]) < SNAPSHOT_KEEP_SAMPLES)
            pages[n++] = s->pages[i];
    for (size_t i = 0; i < s->nmisses; i++)
        for (uint32_t p = 0; p < s->misses[i].npages; p++)
            pages[n++] = s->misses[i].start + ((uint64_t)p << s->page_shift);
    qsort(pages, n, sizeof(*pages), cmp_u64);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || pages[unique - 1] != pages[i])
            pages[unique++] = pages[i];
    /* Over the bound: keep the lowest addresses; the rest stay misses. */
    n = MIN(unique, (size_t)SNAPSHOT_MAX_PLAN_PAGES);

    free(s->pages);
    s->pages = pages;
    s->npages = n;
    s->pages_cap = MAX(want, 1);
    free(s->page_last_use);
    s->page_last_use = xmalloc(MAX(n, 1) * sizeof(*s->page_last_use));
    for (size_t i = 0; i < n; i++)
        s->page_last_use[i] = s->sample_no;
    s->buf = xgrow(s->buf, &s->buf_cap, n << s->page_shift, 1);

    s->nruns = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->nruns && s->runs[s->nruns - 1].start +
                            ((uint64_t)s->runs[s->nruns - 1].npages << s->page_shift) == pages[i]) {
            s->runs[s->nruns - 1].npages++;
            continue;
        }
        s->runs = xgrow(s->runs, &s->runs_cap, s->nruns + 1, sizeof(*s->runs));
        s->runs[s->nruns++] = (struct snapshot_run){ pages[i], (uint32_t)i, 1, 0 };
    }
    if (s->iov_cap < s->nruns) {
        s->iov_local = xrealloc(s->iov_local, s->nruns * sizeof(*s->iov_local));
        s->iov_remote = xrealloc(s->iov_remote, s->nruns * sizeof(*s->iov_remote));
        s->iov_cap = s->nruns;
    }
    for (size_t i = 0; i < s->nruns; i++) {
        size_t bytes = (size_t)s->runs[i].npages << s->page_shift;
        s->iov_local[i] = (struct iovec){ s->buf + ((size_t)s->runs[i].first_page << s->page_shift), bytes };
        s->iov_remote[i] = (struct iovec){ (void *)(uintptr_t)s->runs[i].start, bytes };
    }
    s->stats.plan_pages = n;
    s->stats.rebuilds++;
}

void snapshot_end(struct snapshot *s)
{
    bool stale = false;
    /* Checking for stale pages costs a pass over the plan: do it once per
     * KEEP window, which bounds how long an unneeded page is read. */
    if (s->sample_no % SNAPSHOT_KEEP_SAMPLES == 0) {
        for (size_t i = 0; i < s->npages && !stale; i++)
            stale = (uint32_t)(s->sample_no - s->page_last_use[i]) >= SNAPSHOT_KEEP_SAMPLES;
    }
    if (s->plan_dirty || stale)
        rebuild_plan(s);
    s->plan_dirty = false;
}
