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
 * The read is not atomic: the target runs while the kernel copies. So the
 * plan is read in phases, within the one call:
 *   FIRST  values that must be no more recent than anything else: with a
 *          LATE copy of the same bytes, they show what stood still for the
 *          whole read (the GIL's switch count, python/gil.h);
 *   MAIN   everything once, by rising address; the ranges that hold watched
 *          bytes last: first the frames, outermost first, then the
 *          "anchors", then the values of the "centre" (below);
 *   WATCH  second copies of the watched bytes in the opposite order: anchors,
 *          then frames, innermost first. "Innermost" is the order in which
 *          the walks of the last sample asked for them (a range's rank), not
 *          their address: a thread's data stack grows upwards within a chunk,
 *          but a deep one spans chunks, each mapped below the one before, and
 *          frame objects (3.8-3.10) lie anywhere. The watched bytes are thus
 *          copied as a palindrome, and every range's two copies bracket the
 *          same moment, the centre, where the values copied only once sit.
 *          Bytes equal in both copies held that value then (unless they
 *          changed and changed back), so a stack walked from the innermost
 *          frame the centre names, whose frames all agree, is one the thread
 *          had then (frames.h). The centre holds a thread's pointer to its
 *          innermost frame and its stack bounds: one copy fixes a moment, and
 *          a second would only ask them to hold still for longer, when they
 *          change on every call and return. The innermost frames change
 *          nearly as often, so they get the shortest time between copies;
 *          deep frames, which change rarely, the longest. A loop that returns
 *          and calls the same functions again rewrites data-stack slots with
 *          look-alike frames (3.11+); a frame pointer away from its frame at
 *          the centre shows there, whatever the outer copies saw. Anchors
 *          lead to the centre and must hold still across it: 3.11-3.12's
 *          tstate->cframe, the struct the frame pointer is read from. The
 *          centre also holds the entry frames of evaluation loops (3.12+, on
 *          the C stack): what is read of them (their kind and the link to
 *          their caller) is fixed for their life, and a new loop entered at
 *          the same address with another caller would have rewritten the
 *          frames above it, which are copied twice. One copy at the centre is
 *          as good as two, and saves an iovec (a page pinned) per thread.
 *          Next to the centre, in a phase of its own (MIDDLE), a third copy
 *          of the frames that two copies cannot vouch for: a frame calling a
 *          generator is linked to a frame copied in another range, at other
 *          times, and a loop that returns and calls again from the same
 *          place can give it look-alike copies at both ends. Taken after
 *          the centre, it speaks for it only while the thread's innermost
 *          frame stays the same: that thread's frame pointer is then also
 *          read as an anchor, copied before the centre and after MIDDLE;
 *   LATE   values that must be at least as recent as everything else: a
 *          code-generation counter proving no code object read was
 *          replaced, and the code objects the frames point to.

 * Pointers returned are valid until snapshot_end. The data is a copy taken
 * while the target runs: callers validate everything they read.
 */
#ifndef STROBE_PROC_SNAPSHOT_H
#define STROBE_PROC_SNAPSHOT_H

#include "proc/memory.h"

/* Upper bound on the bytes read every sample (thousands of deep stacks). */
#define SNAPSHOT_MAX_PLAN_BYTES ((size_t)16 * 1024 * 1024)
/* Bound on pages fetched on demand within one sample. */
#define SNAPSHOT_MAX_MISS_PAGES 2048
/* Bytes no sample touched for this many samples leave the plan. */
#define SNAPSHOT_KEEP_SAMPLES 64
/* Requests remembered for the plan in one sample, at most. Thousands of
 * threads that are new to the plan ask for a few hundred thousand; but
 * thread states that all lead into the same frames ask for them again for
 * each thread, without end but for this (a copy of each, twice, while the
 * plan is rebuilt). */
#define SNAPSHOT_MAX_WANTED ((size_t)1 << 19)
/* Largest single request; larger objects are read with remote_read. */
#define SNAPSHOT_MAX_REQUEST ((size_t)64 * 1024)
/* Requests this close together (and at most a page apart) share an iovec:
 * copying a few spare cache lines is cheaper than another range. */
#define SNAPSHOT_MERGE_GAP 2048
/* A range that missed is planned with this much room after it (within its
 * page), for a stack that grows by a frame or two. */
#define SNAPSHOT_GROWTH_SLACK 512
/* second copies extend this far either side of what was watched, so a frame
 * pushed or popped nearby is still covered next time. */
#define SNAPSHOT_WATCH_SLACK 512

enum snapshot_phase {
    PHASE_MAIN,
    PHASE_WATCH,
    PHASE_LATE,
    PHASE_FIRST,    /* read before everything else (listed last: added last) */
    PHASE_MIDDLE,   /* read once, right after the centre */
    PHASE_COUNT,
};

/* What watched bytes are, which decides when they are copied. A range
 * holding several kinds is read as the last of them in this list. */
enum watch_kind {
    WATCH_NONE,
    WATCH_CENTRE,   /* one copy, at the centre of the read: a thread's
                       pointer to its innermost frame and stack bounds, and
                       frames that outlive every frame above them (an
                       evaluation loop's entry frame) */
    WATCH_FRAMES,   /* two copies, around the centre */
    WATCH_ANCHORS,  /* what leads to the centre: two copies, innermost */
};

struct snapshot_stats {
    uint64_t samples;
    uint64_t hits;          /* requests served from the plan */
    uint64_t misses;        /* requests that needed their own read */
    uint64_t rebuilds;      /* times the plan changed */
    uint64_t failed_ranges; /* planned ranges that turned out unmapped */
    uint64_t refreshes;     /* whole plans read again within a sample */
    uint64_t rereads;       /* watched ranges read again within a sample */
    uint64_t plan_ranges;   /* the plan's ranges and bytes, summed over */
    uint64_t plan_bytes;    /* samples (for their mean) */
};

/* A planned range: remote [start, end), read into buf at buf_offset. */
struct snapshot_range {
    uint64_t start, end;
    size_t buf_offset;
    uint64_t used_lo, used_hi;      /* bytes requested this window; lo > hi if none */
    uint32_t last_use;              /* sample number of the last request served */
    uint8_t phase;
    uint8_t watch;                  /* enum watch_kind: the most it has held */
    /* The most asked of it this window (MAIN ranges): at a trim, what it
     * holds becomes that, so that one odd request (an entry frame caught
     * being written, read as a frame) does not keep a second copy forever. */
    uint8_t watch_seen;
    uint8_t placed;                 /* the kind it is read as in the current plan */
    /* When its watched bytes were first asked for in the last sample that
     * asked (ranked_sample): the order of the palindrome. */
    uint32_t rank, ranked_sample;
    bool valid;                     /* read completely this sample */
};

struct snapshot_miss;
struct snapshot_interval;
struct snapshot_ranked;

struct snapshot {
    struct remote *remote;
    size_t page_size;
    unsigned page_shift;

    /* The plan: ranges sorted by (phase, address), phase p occupying
     * [phase_begin[p], phase_begin[p+1]); each read into buf at its own
     * offset. iovecs are in reading order (see rebuild_plan). */
    struct snapshot_range *ranges;
    size_t nranges, ranges_cap;
    size_t phase_begin[PHASE_COUNT + 1];
    size_t plan_bytes;
    uint8_t *buf;
    size_t buf_cap;
    struct iovec *iov_local, *iov_remote;
    uint32_t *iov_range;            /* the range each iovec reads */
    size_t watched_iov_begin;       /* iovecs from here on hold watched bytes
                                       (both copies), then LATE values */
    size_t niov;                    /* iovecs in the reading order */
    size_t iov_cap;
    size_t hint;                    /* the MAIN range the last request fell in */
    size_t hint_watch;               /* the WATCH range the last watched copy fell in */

    /* Pages fetched on demand during the current sample, and the requests
     * to add to the plan. */
    struct snapshot_miss *misses;
    size_t nmisses, misses_cap;
    size_t miss_hint;               /* the miss the last request fell in */
    uint8_t *miss_buf;              /* SNAPSHOT_MAX_MISS_PAGES pages, lazily allocated */
    size_t miss_pages_used;
    struct snapshot_interval *wanted;
    size_t nwanted, wanted_cap;
    /* Scratch for ordering the frames' ranges when the plan is rebuilt. */
    struct snapshot_ranked *ranked;
    size_t ranked_cap;

    uint32_t sample_no;
    uint32_t next_rank;             /* for the next range first asked for */
    uint64_t reads;                 /* times the plan was read: each a new copy */
    bool plan_dirty;
    enum remote_status last_error;  /* worst status seen this sample */
    struct snapshot_stats stats;
};

void snapshot_init(struct snapshot *s, struct remote *r);
void snapshot_free(struct snapshot *s);

/* Read the plan. Returns REMOTE_GONE or REMOTE_DENIED if the target can no
 * longer be read at all; unmapped planned ranges only count as misses. */
enum remote_status snapshot_begin(struct snapshot *s);

const void *snapshot_get_slow(struct snapshot *s, uint64_t addr, size_t len);

/* `len` bytes at `addr` as of this sample (the MAIN copy), or NULL if they
 * cannot be read. Inline for the common case: the range of the last
 * request. */
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
    return snapshot_get_slow(s, addr, len);
}

/*
 * Bytes that must be at least as recent as everything else in the sample
 * (the second copy), e.g. a counter proving nothing read earlier was replaced.
 * A miss is read on the spot, which is later still.
 */
const void *snapshot_get_late(struct snapshot *s, uint64_t addr, size_t len);

/*
 * Bytes copied before everything else in the sample. NULL if they were not
 * in the plan (they are from the next sample on): a read on the spot would
 * come after the rest.
 */
const void *snapshot_get_first(struct snapshot *s, uint64_t addr, size_t len);

/*
 * Bytes copied once in the middle of the read, right after the centre. NULL
 * if they were not in the plan (they are from the next read on, after a
 * replan too): a read on the spot would come after the rest.
 */
const void *snapshot_get_middle(struct snapshot *s, uint64_t addr, size_t len);

/* The two copies of watched bytes; last is NULL until the plan has both
 * (the sample after the bytes were first watched, or after snapshot_replan)
 * with the first among the watched ranges, which a quick second look
 * (snapshot_reread_watched) reads again as well.
 * Centre values copied once, at the centre, are their own second copy:
 * last is main.
 * Both come from the one read of the plan, MAIN before WATCH: bytes that are
 * equal in both held that value at the centre of the read (unless they
 * changed and changed back), as did all other watched bytes. */
struct snapshot_watch {
    const void *main, *last;
};

/* The second copy of watched bytes, or NULL and planned for next time (a
 * centre value's one copy is planned in its place as well). */
const void *snapshot_last_copy_slow(struct snapshot *s, uint64_t addr, size_t len,
                                    enum watch_kind kind);

/* Rank a range by when its watched bytes were first asked for this sample. */
static inline void snapshot_note_rank(struct snapshot *s, struct snapshot_range *r)
{
    if (r->ranked_sample != s->sample_no) {
        r->ranked_sample = s->sample_no;
        r->rank = s->next_rank++;
    }
}

/* Watch as `kind` the `len` bytes at `addr` that the last snapshot_get
 * returned as `main` (for a caller that reads them before it knows their
 * kind): they are also copied in the WATCH phase. */
static inline struct snapshot_watch snapshot_watch_got(struct snapshot *s, const void *main,
                                                       uint64_t addr, size_t len,
                                                       enum watch_kind kind)
{
    struct snapshot_watch w = { main, NULL };
    if (!w.main)
        return w;
    if (unlikely((uintptr_t)w.main - (uintptr_t)s->buf >= s->plan_bytes)) {
        /* Fetched on demand, after the WATCH phase: the two copies would not
         * bracket the moment the rest of the sample was copied. Plan the
         * second copy (a centre value: its place) for next time; this one
         * stays unchecked. */
        snapshot_last_copy_slow(s, addr, len, kind);
        return w;
    }
    struct snapshot_range *m = &s->ranges[s->hint];     /* the range that served main */
    snapshot_note_rank(s, m);
    if (m->watch_seen < kind)
        m->watch_seen = (uint8_t)kind;
    if (unlikely(m->watch < kind)) {
        m->watch = (uint8_t)kind;   /* to be read later in MAIN from the next sample on */
        s->plan_dirty = true;
    }
    if (kind == WATCH_CENTRE && m->placed < WATCH_FRAMES) {
        /* One copy, and only if it was taken at the centre. */
        if (m->placed == WATCH_CENTRE)
            w.last = w.main;
        return w;
    }
    if (unlikely(m->placed == WATCH_NONE)) {
        /* This copy was taken before the watched ones, and a quick second
         * look (snapshot_reread_watched) does not take it again: with a
         * second copy from a later read, the two would not bracket the
         * same moment. No second copy until the range is placed (the
         * plan is changing: have both copies ready for a second look). */
        snapshot_last_copy_slow(s, addr, len, kind);
        return w;
    }
    if (likely(s->hint_watch < s->nranges)) {
        struct snapshot_range *r = &s->ranges[s->hint_watch];
        if (r->phase == PHASE_WATCH && addr >= r->start && addr + len <= r->end && r->valid) {
            if (addr < r->used_lo)
                r->used_lo = addr;
            if (addr + len > r->used_hi)
                r->used_hi = addr + len;
            r->last_use = s->sample_no;
            snapshot_note_rank(s, r);
            w.last = s->buf + r->buf_offset + (addr - r->start);
            return w;
        }
    }
    w.last = snapshot_last_copy_slow(s, addr, len, kind == WATCH_CENTRE ? WATCH_FRAMES : kind);
    return w;
}

/* Read `len` bytes at `addr` and watch them as `kind`: they are also copied
 * in the WATCH phase. main is NULL if unreadable. */
static inline struct snapshot_watch snapshot_get_watched(struct snapshot *s, uint64_t addr,
                                                         size_t len, enum watch_kind kind)
{
    return snapshot_watch_got(s, snapshot_get(s, addr, len), addr, len, kind);
}

/* Put what this sample wanted so far into the plan now, and read it again:
 * for a second look at a thread whose stack was caught changing, or had no
 * second copies yet. Pointers from before are invalid afterwards. */
enum remote_status snapshot_replan(struct snapshot *s);

/* Read the watched bytes again, both copies, and what shares their ranges,
 * then the LATE values: a quick second look at a stack caught changing.
 * Earlier pointers stay valid and show the new data. */
enum remote_status snapshot_reread_watched(struct snapshot *s);

/* Adapt the plan to what this sample needed. */
void snapshot_end(struct snapshot *s);

/* Forget the plan entirely (e.g. after the target exec'd). */
void snapshot_reset(struct snapshot *s);

static inline bool snapshot_get_u64(struct snapshot *s, uint64_t addr, uint64_t *out)
{
    const void *p = snapshot_get(s, addr, sizeof(*out));
    if (!p)
        return false;
    __builtin_memcpy(out, p, sizeof(*out));
    return true;
}

#endif
