/*
 * snapshot.h — one batched read of everything a sample needs.
 *
 * Why: a process_vm_readv call costs about a microsecond, and each extra
 * remote range costs a quarter of one more, whatever its size up to a page,
 * because the kernel pins each page it copies. Reading the thread states,
 * frames and code-object headers of a sample one by one would take tens of
 * system calls. Instead strobe keeps a *plan*: the set of remote pages the
 * previous samples needed. At the start of a sample the whole plan is read
 * with one process_vm_readv (consecutive pages merged into one iovec), and the
 * interpreter model then asks for addresses as if it were reading memory at
 * random. Anything the plan did not cover is fetched on demand (a "miss") and
 * its pages join the plan for the next sample; pages no sample has touched for
 * a while leave it. In steady state a sample is one system call.
 *
 * Pointers returned by snapshot_get are valid until snapshot_end. The data is
 * a copy taken while the target runs: callers validate everything they read.
 */
#ifndef STROBE_PROC_SNAPSHOT_H
#define STROBE_PROC_SNAPSHOT_H

#include "proc/memory.h"

/* Upper bound on the plan (pages read every sample): 16 MiB of 4 KiB pages,
 * enough for thousands of deep stacks; beyond it reads stay misses. */
#define SNAPSHOT_MAX_PLAN_PAGES 4096
/* Bound on pages fetched on demand within one sample. */
#define SNAPSHOT_MAX_MISS_PAGES 2048
/* A page no sample touched for this many samples leaves the plan. */
#define SNAPSHOT_KEEP_SAMPLES 64
/* Largest single request; larger objects are read with remote_read. */
#define SNAPSHOT_MAX_REQUEST (64u * 1024)

struct snapshot_stats {
    uint64_t samples;
    uint64_t hits;          /* requests served from the plan */
    uint64_t misses;        /* requests that needed their own read */
    uint64_t rebuilds;      /* times the plan changed */
    uint64_t plan_pages;    /* pages in the current plan */
    uint64_t failed_pages;  /* planned pages that turned out unmapped */
};

struct snapshot_run;
struct snapshot_miss;

struct snapshot {
    struct remote *remote;
    size_t page_size;
    unsigned page_shift;

    /* The plan: sorted page addresses, grouped into runs of consecutive pages
     * that are read with one iovec each into `buf` (page i at i*page_size). */
    uint64_t *pages;
    uint32_t *page_last_use;    /* sample number when page i was last needed */
    size_t npages, pages_cap;
    struct snapshot_run *runs;
    size_t nruns, runs_cap;
    uint8_t *buf;
    size_t buf_cap;
    struct iovec *iov_local, *iov_remote;
    size_t iov_cap;

    /* Pages fetched on demand during the current sample. */
    struct snapshot_miss *misses;
    size_t nmisses, misses_cap;
    uint8_t *miss_buf;          /* SNAPSHOT_MAX_MISS_PAGES pages, lazily allocated */
    size_t miss_pages_used;

    uint32_t sample_no;
    bool plan_dirty;
    enum remote_status last_error;  /* worst status seen this sample */
    struct snapshot_stats stats;
};

void snapshot_init(struct snapshot *s, struct remote *r);
void snapshot_free(struct snapshot *s);

/* Read the plan. Returns REMOTE_GONE or REMOTE_DENIED if the target can no
 * longer be read at all; unmapped planned pages only count as misses. */
enum remote_status snapshot_begin(struct snapshot *s);

/* `len` bytes at `addr` as of this sample, or NULL if they cannot be read. */
const void *snapshot_get(struct snapshot *s, uint64_t addr, size_t len);

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
