/*
 * sampler.c — the sampling loop; see sampler.h.
 */
#include "sampler/sampler.h"

#include "base/clock.h"
#include "base/random.h"
#include "proc/process.h"
#include "proc/snapshot.h"
#include "python/code.h"
#include "python/frames.h"
#include "python/gil.h"
#include "python/threads.h"
#include "sampler/stacks.h"
#include "sampler/timer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* A thread state that names, for this long, a thread the target does not
 * have names one that ended (thread_exists): ids rewritten by a corrupt or
 * hostile target rarely hold still that long. Such states are watched,
 * this many at once, and this many such ids are accepted at most. */
#define ENDED_ID_STABLE_NS (50 * NS_PER_MS)
#define ENDED_IDS_WATCHED 64
#define ENDED_IDS_ACCEPTED_MAX 64

struct sampler {
    struct py_target *target;
    struct profile *profile;
    struct snapshot snap;
    struct code_cache codes;
    uint64_t first_read;        /* snapshot read the current sample began with */
    struct stack_resolver resolver;
    struct py_thread *threads;      /* scratch: PY_MAX_THREADS */
    struct raw_frame *frames;       /* scratch: PY_MAX_STACK_DEPTH */
    /* Threads of this sample still to be looked at (indices into
     * threads): those whose look needs the plan extended are looked at
     * again after one read of the extended plan for all of them. */
    uint32_t *deferred;             /* scratch: PY_MAX_THREADS */
    /* One OS thread's thread states in several interpreters (nest_threads):
     * for each thread of this sample, the thread state it entered its
     * interpreter from, ID_NONE if none; and whether another was entered
     * from it (it stands in that call: its stack is not the thread's whole). */
    uint32_t *outer;                /* scratch: PY_MAX_THREADS */
    bool *entering;                 /* scratch: PY_MAX_THREADS */
    struct u64map outermost_by_tid; /* scratch: tid -> index into threads */
    size_t thread_states_entered;   /* in this sample: not threads of their own */
    /* Where the stack being looked at goes (stacks.h), and how the last
     * thread sampled ended (sample_thread). */
    struct stack_place place;
    bool last_recorded;
    /* The GIL (python/gil.h): where this sample reads it, chosen by the
     * threads of the sample before (0: not read), and what it showed. Read
     * before the threads, it spares resting threads their frame pointers. */
    uint64_t gil_addr;
    struct gil_state gil;
    uint64_t samples;           /* begun, to time the self-checks */
    bool gil_self_check;        /* this sample reads every thread anyway */
    /* Thread states naming threads the target does not have, each with
     * the id it named, since when, when last, and whether it was taken
     * for an ended thread's (thread_exists); and how many were. */
    struct ended_thread_id {
        uint64_t tstate, tid, since_ns, seen_ns;
        bool accepted;
    } ended_ids[ENDED_IDS_WATCHED];
    unsigned ended_ids_accepted;
    /* Second looks at a stack caught changing (look_again): the state of
     * their random waits, and when the last one began. */
    uint64_t wait_random;
    uint64_t look_began_ns;
    /* Frames the walks of this sample may still visit (try_thread), and
     * second looks it may still take (sample_thread); looks past
     * SAMPLE_MAX_LOOKS are taken only until looks_until_ns. */
    size_t walk_steps_left;
    unsigned second_looks_left;
    uint64_t looks_until_ns;    /* set by sampler_run; 0: no more */
    /* The program unloaded the runtime (sample_once returned false). */
    bool runtime_unloaded;
    /* strobe's resource usage when this sampler began (record_costs). */
    bool usage_known;
    struct rusage usage_at_start;
};

/* Looks at one thread's stack per sample: the first read and the second
 * looks after it was caught changing. Each costs one quick read of the
 * watched ranges; the odds of a stack moving during all of them fall
 * geometrically. Every stack gets SAMPLE_MAX_LOOKS; more, up to
 * SAMPLE_MAX_LOOKS_IN_BUDGET, while the sample has spent less than
 * 1/SAMPLE_LOOK_BUDGET_SHARE of the interval. A read that takes as long as
 * the program's calls (CPython 3.8-3.10 on a shallow loop: 17 us, three
 * copies of six frame objects) tears more often than not, and at 1 kHz six
 * looks left 4-7% of such stacks errors while most of the 1 ms went unused
 * (looking on for half of it: under 1%). The stack recorded is then one
 * the thread had within that half; a later slot is another sample's. */
#define SAMPLE_MAX_LOOKS 6
#define SAMPLE_MAX_LOOKS_IN_BUDGET 32
#define SAMPLE_LOOK_BUDGET_SHARE 2
/* Second looks after a torn read, from this one on, wait a random while
 * first (second_look_wait_ns). */
#define SECOND_LOOK_FIRST_WAIT 2
/* The longest such wait: it is spent spinning. */
#define SECOND_LOOK_MAX_WAIT_NS (100 * NS_PER_US)
/* Reads of the extended plan shared by the threads that need it, at most,
 * in one sample (sample_threads). */
#define SAMPLE_PLAN_ROUNDS 4
/* Frames the walks of one sample visit, over all its threads, before
 * each walk is cut short: several looks at a stack as deep as strobe
 * keeps. Real stacks come nowhere near (the read plan holds 16 MiB); but
 * thread states that all lead into one long chain of frames had one sample
 * walk it again for each of thousands of threads, and look again: seconds
 * or minutes, with memory for every frame read on demand. */
#define SAMPLE_WALK_STEPS (4 * py_walk_steps(PY_MAX_STACK_DEPTH))
/* Frames each walk still visits once those are spent, whoever spent them
 * (the whole stack of most threads); each thread then gets one look. */
#define SAMPLE_WALK_STEPS_SPENT 128
/* Second looks, over all its threads, in one sample at most. Each reads
 * the watched ranges again, or the whole plan. With the GIL, the stacks of
 * one or two threads move while a sample reads them; but thousands of
 * thread states whose stacks never hold still or never read (they lead
 * into memory being rewritten, or into a frame chain that loops) had one
 * sample read the plan again for each: gigabytes, and seconds. */
#define SAMPLE_MAX_SECOND_LOOKS 64
/* A sample is late (profile_costs.late_samples) when it starts twice a
 * sleep's usual lateness after it was due, but at least the first and at
 * most the second of these (a start on a busy machine measures that
 * lateness long). */
#define LATE_SAMPLE_MIN_NS (100 * NS_PER_US)
#define LATE_SAMPLE_MAX_NS (250 * NS_PER_US)
/* Every this many samples, stacks the GIL proves unchanged are read anyway:
 * a self-test of the proof. */
#define GIL_SELF_CHECK_SAMPLES 4096

/* The error of a walk that failed other than by catching the stack
 * changing (WALK_MOVED and WALK_BAD_FRAME are tears: try_thread). */
static enum sample_error walk_error(enum walk_status st)
{
    return st == WALK_CYCLE ? SAMPLE_ERROR_CYCLE : SAMPLE_ERROR_UNREADABLE;
}

static void count_error(struct profile *p, enum sample_error e)
{
    p->stats.thread_errors++;
    p->stats.errors[e]++;
}

/* How one attempt at a thread's stack went. */
enum attempt {
    ATTEMPT_OK,
    ATTEMPT_TORN,       /* caught changing while read: worth another look */
    ATTEMPT_UNCHECKED,  /* read, but without the copies to prove it held still */
    ATTEMPT_NEWS,       /* read, with code identities the frames cannot vouch
                           for (stacks.h): worth a whole new read */
    ATTEMPT_FAILED,     /* unreadable, or not a stack at all */
    ATTEMPT_GONE,
};

/* Does the latest read of the target still show the sample's code
 * generation? */
static bool generation_unmoved(struct sampler *s)
{
    struct code_generation now;
    const struct code_generation *sampled = &s->resolver.generation;
    return sampled->valid && py_code_generation_latest(s->target, &s->snap, &now) &&
           now.value == sampled->value;
}

/* A look that caught the stack changing at `site`: counted, for --stats. */
static enum attempt torn_at(struct sampler *s, enum tear_site site)
{
    s->profile->costs.torn[site]++;
    return ATTEMPT_TORN;
}

/*
 * Walk one thread and, if its stack is proved to be one the thread really
 * had (frames.h), add it. On failure, the cause in *error.
 */
static enum attempt try_thread(struct sampler *s, const struct py_thread *thr, uint64_t weight_ns,
                               bool second_look, enum sample_error *error)
{
    *error = SAMPLE_ERROR_TORN;
    if (thr->leaf_moved)
        return torn_at(s, TEAR_FRAME_POINTER);
    uint64_t misses_before = s->snap.stats.misses;
    struct walk_result walk;
    size_t granted = MAX(s->walk_steps_left, SAMPLE_WALK_STEPS_SPENT), steps_left = granted;
    enum walk_status st = py_walk_frames(s->target, &s->snap, thr->leaf_frame, &thr->bounds,
                                         s->frames, PY_MAX_STACK_DEPTH, &steps_left, &walk);
    s->walk_steps_left -= MIN(granted - steps_left, s->walk_steps_left);
    if (st == WALK_GONE)
        return ATTEMPT_GONE;
    if (st == WALK_MOVED || st == WALK_BAD_FRAME)
        return torn_at(s, st == WALK_MOVED ? walk.torn_at : TEAR_BAD_FRAME);
    if (st != WALK_OK && st != WALK_TRUNCATED) {
        *error = walk_error(st);
        return ATTEMPT_FAILED;
    }
    if (!walk.verified || !thr->leaf_verified)
        return ATTEMPT_UNCHECKED;
    if (walk.middle_used) {
        enum leaf_hold held = py_thread_leaf_held(&s->snap, thr);
        if (held == LEAF_MOVED)
            return torn_at(s, TEAR_FRAME_POINTER);
        if (held == LEAF_UNCHECKED)
            return ATTEMPT_UNCHECKED;
    }
    size_t depth = walk.depth;
    if (depth == 0)
        return ATTEMPT_OK;  /* only interpreter-internal frames: nothing running */
    bool truncated = st == WALK_TRUNCATED;
    s->place.tid = thr->tid;
    /* The generation proof needs frames read before a late read of the
     * counter that shows the sample's value: pages fetched on demand come
     * after it; a second look reads the counter again, after its frames. */
    bool from_plan = s->snap.stats.misses == misses_before &&
                     (!second_look || generation_unmoved(s));
    enum resolve_status rs = stack_resolver_add(&s->resolver, &s->place, s->frames, depth,
                                                truncated, from_plan, &walk.end, weight_ns);
    switch (rs) {
    case RESOLVE_OK:
        break;
    case RESOLVE_TORN:
        return torn_at(s, s->resolver.torn_at);
    case RESOLVE_READ_LATE:
        return ATTEMPT_UNCHECKED;
    case RESOLVE_NEWS:
        return ATTEMPT_NEWS;
    case RESOLVE_NOT_CODE:
        *error = SAMPLE_ERROR_NOT_CODE;
        return ATTEMPT_FAILED;
    }
    s->profile->stats.thread_samples += s->place.record;
    s->profile->stats.truncated += truncated;
    return ATTEMPT_OK;
}

/*
 * One look at a thread. Its thread state is read again first if the target
 * was read again since (a second look, maybe for another thread): its
 * pointers and bounds must be as recent as the frames they are checked
 * with; one taken for at rest has none yet. Frames from any read but the
 * sample's first are a second look.
 */
static enum attempt look_at_thread(struct sampler *s, struct py_thread *thr, uint64_t weight_ns,
                                   enum sample_error *error)
{
    if (thr->read_no != s->snap.reads || thr->at_rest) {
        if (!py_thread_refresh(s->target, &s->snap, thr)) {
            *error = SAMPLE_ERROR_TORN;
            return s->snap.last_error == REMOTE_GONE ? ATTEMPT_GONE : ATTEMPT_FAILED;
        }
        if (!thr->leaf_frame)
            return ATTEMPT_OK;  /* it left Python meanwhile */
    }
    return try_thread(s, thr, weight_ns, s->snap.reads != s->first_read, error);
}

/*
 * How long to wait before the nth second look at a stack caught changing,
 * the last look having taken last_look_ns. A loop that calls and returns in
 * a steady rhythm tears every look that starts at the same point of it, and
 * looks that each take as long as a whole number of its turns keep starting
 * there: on CPython 3.11, whose looks took about two turns of the
 * benchmark's shallow loop, up to one stack in thirty tore six times
 * running. The first second look goes at once (most tears are chance);
 * from the second on, a random wait of up to the last look's length,
 * doubled at each, starts the next anywhere in such a rhythm.
 */
static uint64_t second_look_wait_ns(struct sampler *s, int nth, uint64_t last_look_ns)
{
    if (nth < SECOND_LOOK_FIRST_WAIT)
        return 0;
    uint64_t span = MIN(last_look_ns, SECOND_LOOK_MAX_WAIT_NS) << (nth - SECOND_LOOK_FIRST_WAIT);
    return random_below(&s->wait_random, MIN(span, SECOND_LOOK_MAX_WAIT_NS));
}

/*
 * Read again what a second look at a thread needs: after a torn read (the
 * nth_torn such look at it), only the watched ranges (quick, so the stack
 * has less time to move again), maybe after a wait; after an unchecked or
 * failed one, the whole plan with everything this thread needed added.
 * A look `in_budget` (past SAMPLE_MAX_LOOKS) waits no later than the
 * budget's end.
 */
static bool look_again(struct sampler *s, enum attempt a, int nth_torn, bool in_budget)
{
    struct profile_costs *c = &s->profile->costs;
    enum remote_status rs;
    if (a == ATTEMPT_TORN) {
        c->retries++;
        uint64_t now = clock_now_ns();
        uint64_t wait = second_look_wait_ns(s, nth_torn, now - s->look_began_ns);
        if (in_budget)
            wait = MIN(wait, s->looks_until_ns > now ? s->looks_until_ns - now : 0);
        if (wait) {
            now = clock_spin_until_ns(now + wait);
            c->retry_wait_ns += wait;
        }
        s->look_began_ns = now;
        rs = snapshot_reread_watched(&s->snap);
    } else {
        c->second_looks++;
        rs = snapshot_replan(&s->snap);
    }
    return rs != REMOTE_GONE && rs != REMOTE_DENIED;
}

/* May a stack that `looks` looks found changing have another (see
 * SAMPLE_MAX_LOOKS)? */
static bool may_look_again(const struct sampler *s, int looks)
{
    if (looks < SAMPLE_MAX_LOOKS)
        return true;
    return looks < SAMPLE_MAX_LOOKS_IN_BUDGET && clock_now_ns() < s->looks_until_ns;
}

/*
 * Sample one thread. A stack caught changing while it was read, or with
 * code objects new to strobe, gets the looks may_look_again allows; one
 * whose frames had no second copies yet (it moved somewhere new) or could
 * not be read gets one more, with the plan extended. Only then is it an
 * error — for this thread only. With `may_defer`, that extended read is
 * left to the caller, which makes one for every thread that needs it
 * (*deferred: look at this thread again after it). false if the target is
 * gone.
 */
static bool sample_thread(struct sampler *s, struct py_thread *thr, uint64_t weight_ns,
                          bool may_defer, bool *deferred)
{
    enum sample_error error = SAMPLE_ERROR_UNREADABLE;
    enum attempt a = look_at_thread(s, thr, weight_ns, &error);
    bool replanned = false;
    int torn = 0;
    *deferred = false;
    for (int looks = 1; may_look_again(s, looks) && a != ATTEMPT_OK && a != ATTEMPT_GONE;
         looks++) {
        if (s->walk_steps_left == 0)
            break;      /* the sample's frames are spent: one look each */
        if (a != ATTEMPT_TORN && a != ATTEMPT_NEWS) {
            if (replanned)
                break;  /* moved again, out of what was planned */
            if (may_defer) {
                *deferred = true;
                return true;
            }
            replanned = true;
        }
        if (s->second_looks_left == 0)
            break;      /* the sample's are spent: an error for this thread */
        s->second_looks_left--;
        torn += a == ATTEMPT_TORN;
        if (!look_again(s, a, torn, looks >= SAMPLE_MAX_LOOKS))
            return false;
        a = look_at_thread(s, thr, weight_ns, &error);
    }
    if (a != ATTEMPT_OK && a != ATTEMPT_GONE)
        count_error(s->profile, error);
    s->last_recorded = a == ATTEMPT_OK;
    return a != ATTEMPT_GONE;
}

/*
 * Can the GIL vouch for a thread's stack in this sample (python/gil.h)? Its
 * switch count held for the whole read and the thread is not the one that
 * can have run.
 * Threads with no known kernel id are left out: their memos are not their
 * own.
 */
static bool gil_vouches(const struct sampler *s, uint64_t tstate, uint64_t tid)
{
    return s->gil.known && tstate != s->gil.last_holder && tid && !s->profile->costs.gil_broken;
}

/* Does the snapshot's latest read still show the GIL as the sample's first
 * did? Then no other thread can have run since, through any second look. */
static bool gil_unmoved(struct sampler *s)
{
    if (s->snap.reads == s->first_read)
        return true;
    struct gil_state now;
    py_gil_read(&s->snap, s->gil_addr, &now);
    return now.known && now.switches == s->gil.switches && now.last_holder == s->gil.last_holder;
}

/*
 * Sample one thread, or record its last stack again if the GIL proves it has
 * not run since two reads in a row found that stack under the same switch
 * count. Every GIL_SELF_CHECK_SAMPLES samples the stack is read anyway, and
 * if it ever differs from what the GIL promised, the promise is not trusted
 * again. thr ends as last looked at. `may_defer` and *deferred: see
 * sample_thread (a deferred thread is left as it was). false if the target
 * is gone.
 */
static bool sample_or_repeat(struct sampler *s, struct py_thread *thr, uint64_t weight_ns,
                             bool may_defer, bool *deferred)
{
    *deferred = false;
    struct profile *p = s->profile;
    bool promised = gil_vouches(s, thr->tstate, thr->tid);
    uint64_t leaf;
    uint32_t node = promised && stack_resolver_still_leaf(&s->resolver, thr->tid, s->gil.switches,
                                                          thr->tstate, &leaf)
                        ? stack_resolver_last_node(&s->resolver, thr->tid)
                        : ID_NONE;
    if (node != ID_NONE && !s->gil_self_check) {
        stack_resolver_repeat(&s->resolver, thr->tid, node, weight_ns);
        p->stats.thread_samples++;
        p->costs.stacks_repeated++;
        return true;
    }
    uint64_t recorded_before = p->stats.thread_samples;
    uint32_t before = thr->tid ? stack_resolver_last_node(&s->resolver, thr->tid) : ID_NONE;
    s->place = (struct stack_place){ .memo_key = thr->tid, .base = ID_NONE, .record = true };
    if (!sample_thread(s, thr, weight_ns, may_defer, deferred))
        return false;
    if (*deferred)
        return true;
    /* The GIL vouches for the stack only if it still had not moved when the
     * stack was read: after a second look, only if the GIL's copies in that
     * read still show the count. (A recorded stack's pointers were proved.) */
    bool recorded = p->stats.thread_samples != recorded_before;
    bool vouched = recorded && promised && gil_unmoved(s);
    if (vouched && node != ID_NONE && stack_resolver_last_node(&s->resolver, thr->tid) != node)
        p->costs.gil_broken = true;
    struct stack_still still = { s->gil.switches, thr->tstate, thr->leaf_frame };
    if (thr->tid)
        stack_resolver_set_still(&s->resolver, thr->tid, vouched ? &still : NULL, before);
    return true;
}

/* Threads running Python in this sample. */
static size_t threads_in_python(const struct py_thread *threads, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += threads[i].leaf_frame != 0;
    return n;
}

/*
 * py_thread_known_fn: a thread the GIL has not reached since two reads in a
 * row found the same stack under the same switch count cannot have moved its
 * frames: their pointers need not be read. Never in a self-check sample.
 */
static bool thread_at_rest(void *ctx, uint64_t tstate, uint64_t tid, uint64_t *leaf_frame)
{
    struct sampler *s = ctx;
    return !s->gil_self_check && gil_vouches(s, tstate, tid) &&
           stack_resolver_still_leaf(&s->resolver, tid, s->gil.switches, tstate, leaf_frame);
}

/*
 * Check the GIL this sample read against the threads it found, and choose
 * where the next sample reads it: only worth its reads when two threads or
 * more run Python, so that one can rest. If it was the wrong GIL (a
 * subinterpreter came or went), nothing it proved stands, and threads taken
 * for at rest are read after all (look_at_thread refreshes them).
 */
static void settle_gil(struct sampler *s, enum threads_status ts, size_t count,
                       size_t interpreters)
{
    uint64_t addr = ts == THREADS_OK ? py_gil_address(s->target, s->target->interp_head,
                                                      interpreters)
                                     : 0;
    if (addr != s->gil_addr)
        s->gil.known = false;
    s->gil_addr = threads_in_python(s->threads, count) > 1 ? addr : 0;
}

/*
 * Read the GIL for this sample. If it passed once since the last one (the
 * same GIL, known in both, its count one higher), only its holders then and
 * now can have run: the other threads stay at rest (python/gil.h).
 */
static void read_gil(struct sampler *s)
{
    struct gil_state before = s->gil;
    py_gil_read(&s->snap, s->gil_addr, &s->gil);
    if (before.known && s->gil.known && s->gil.switches == before.switches + 1)
        stack_resolver_gil_passed(&s->resolver, before.switches, before.last_holder,
                                  s->gil.last_holder);
}

/* How many thread states of this sample have the kernel id of one listed
 * before, in another interpreter: they are not threads of their own. */
static size_t count_entered(struct sampler *s, size_t count)
{
    size_t n = 0;
    u64map_clear(&s->outermost_by_tid);
    for (size_t i = 0; i < count; i++) {
        const struct py_thread *thr = &s->threads[i];
        uint32_t first = thr->tid ? u64map_get(&s->outermost_by_tid, thr->tid) : ID_NONE;
        if (first == ID_NONE && thr->tid)
            u64map_put(&s->outermost_by_tid, thr->tid, (uint32_t)i);
        n += first != ID_NONE && s->threads[first].interp != thr->interp;
    }
    return n;
}

/*
 * Find the OS threads with a thread state in more than one interpreter that
 * runs Python. A thread that enters another interpreter (a subinterpreter's
 * exec or run_string) gets a thread state there, and the one it came from
 * stands in the call that entered: the same kernel id, each in its own
 * interpreter's list. The interpreters are listed newest first, and a
 * thread enters newer ones from older ones, so each thread state of such a
 * thread was entered from the one listed after it. Thread states with the
 * same id in one interpreter are left alone, and so is every thread state
 * where the kernel id need not be the running thread's (layout.h,
 * enters_with_own_tstate): nested under the wrong thread's stack, a
 * subinterpreter's frames would make calls no thread made.
 */
static void nest_threads(struct sampler *s, size_t count, size_t interpreters)
{
    for (size_t i = 0; i < count; i++) {
        s->outer[i] = ID_NONE;
        s->entering[i] = false;
    }
    s->thread_states_entered = 0;
    if (interpreters < 2 || !s->target->layout.enters_with_own_tstate)
        return;
    s->thread_states_entered = count_entered(s, count);
    u64map_clear(&s->outermost_by_tid);
    for (size_t i = 0; i < count; i++) {
        const struct py_thread *thr = &s->threads[i];
        if (!thr->leaf_frame || !thr->tid)
            continue;
        uint32_t inner = u64map_get(&s->outermost_by_tid, thr->tid);
        if (inner != ID_NONE && s->threads[inner].interp == thr->interp)
            continue;
        if (inner != ID_NONE) {
            s->outer[inner] = (uint32_t)i;
            s->entering[i] = true;
        }
        u64map_put(&s->outermost_by_tid, thr->tid, (uint32_t)i);
    }
}

/*
 * Sample the OS thread whose innermost thread state is threads[inner]: from
 * the outermost, each thread state's stack hangs from the one before's, and
 * the innermost's, the whole of it, is recorded. If one cannot be read, the
 * thread's stack is an error (counted once). false if the target is gone.
 */
static bool sample_nested(struct sampler *s, uint32_t inner, uint64_t weight_ns)
{
    uint32_t chain[PY_MAX_INTERPRETERS] = { inner };
    size_t n = 1;
    for (uint32_t i = s->outer[inner]; i != ID_NONE && n < PY_MAX_INTERPRETERS; i = s->outer[i])
        chain[n++] = i;
    uint32_t base = ID_NONE;
    while (n-- > 0) {
        struct py_thread *thr = &s->threads[chain[n]];
        s->place = (struct stack_place){ .memo_key = NESTED_MEMO_KEY | thr->tstate,
                                         .base = base, .record = n == 0, .leaf = base };
        bool deferred;
        if (!sample_thread(s, thr, weight_ns, false, &deferred))
            return false;
        if (!s->last_recorded)
            return true;
        base = s->place.leaf;
    }
    return true;
}

/*
 * Has thread state `tstate` named the thread `tid`, which the target does
 * not have, for ENDED_ID_STABLE_NS at least (and are fewer than
 * ENDED_IDS_ACCEPTED_MAX such ids in the profile)? Then it is taken for a
 * thread that ended while its thread state lives on, and accepted.
 */
static bool ended_thread_kept_naming(struct sampler *s, uint64_t tstate, uint64_t tid)
{
    uint64_t now = clock_now_ns();
    struct ended_thread_id *slot = NULL, *stalest = &s->ended_ids[0];
    for (size_t i = 0; i < ENDED_IDS_WATCHED && !slot; i++) {
        if (s->ended_ids[i].tstate == tstate)
            slot = &s->ended_ids[i];
        else if (s->ended_ids[i].seen_ns < stalest->seen_ns)
            stalest = &s->ended_ids[i];
    }
    if (!slot) {
        *stalest = (struct ended_thread_id){ tstate, tid, now, now, false };
        return false;
    }
    slot->seen_ns = now;
    if (slot->tid != tid) {
        *slot = (struct ended_thread_id){ tstate, tid, now, now, false };
        return false;
    }
    if (slot->accepted)
        return true;
    if (now - slot->since_ns < ENDED_ID_STABLE_NS || s->ended_ids_accepted >= ENDED_IDS_ACCEPTED_MAX)
        return false;
    s->ended_ids_accepted++;
    slot->accepted = true;
    return true;
}

/*
 * A thread state naming a thread the target does not have is corrupt (or
 * forged): a thread list error. Each new id would otherwise be one more
 * thread in the profile, for ever; a target writing random ids made 540k
 * of them in 10 s. Asked once per id, when first seen: a thread's state
 * leaves the list before the thread ends. Unless the id holds still
 * (ended_thread_kept_naming): CPython 3.11-3.12 run a subinterpreter's code,
 * from whichever thread enters it, on the thread state of the thread that
 * created it (its list's head, gh-109860), which names that thread after
 * it has ended. Its stacks were lost whenever strobe had not seen that
 * thread alive (a short one, or strobe attached later).
 */
static bool thread_exists(struct sampler *s, const struct py_thread *thr)
{
    if (!thr->tid || calltree_has_thread(&s->profile->tree, thr->tid) ||
        !process_lacks_thread(s->target->pid, thr->tid) ||
        ended_thread_kept_naming(s, thr->tstate, thr->tid))
        return true;
    count_error(s->profile, SAMPLE_ERROR_THREAD_LIST);
    return false;
}

/*
 * Sample each thread that runs Python. Those that need the plan extended
 * (at the first sample, every thread; at a GIL self-check, every resting
 * one) get it from a single read made after all had their first look: a
 * read of the extended plan for each would cost, with N such threads, N
 * reads of a plan that grows with N. A sample can fetch only so much on
 * demand (SNAPSHOT_MAX_MISS_PAGES), so hundreds of threads new to the plan
 * may need a few such rounds; at the last, a thread needing more gets its
 * own read, as sample_thread says. false if the target is gone.
 */
static bool sample_threads(struct sampler *s, size_t count, uint64_t weight_ns)
{
    size_t pending = 0;
    for (size_t i = 0; i < count; i++)
        if (s->threads[i].leaf_frame && !s->entering[i] && s->outer[i] == ID_NONE &&
            thread_exists(s, &s->threads[i]))
            s->deferred[pending++] = (uint32_t)i;
    /* Round 0 is every thread's first look; each later one follows a read
     * of the extended plan, and the last lets no thread wait for another. */
    for (int round = 0; pending > 0; round++) {
        if (round > 0 && !look_again(s, ATTEMPT_UNCHECKED, 0, false))
            return false;
        size_t still = 0;
        for (size_t d = 0; d < pending; d++) {
            uint32_t i = s->deferred[d];
            bool deferred;
            if (!sample_or_repeat(s, &s->threads[i], weight_ns, round < SAMPLE_PLAN_ROUNDS,
                                  &deferred))
                return false;
            if (deferred)
                s->deferred[still++] = i;
        }
        pending = still;
    }
    for (size_t i = 0; i < count; i++)
        if (s->outer[i] != ID_NONE && !s->entering[i] &&
            !sample_nested(s, (uint32_t)i, weight_ns))
            return false;
    return true;
}

/* One sample of every thread. false if the target can no longer be read,
 * or no longer has the runtime (s->runtime_unloaded). */
static bool sample_once(struct sampler *s, uint64_t weight_ns)
{
    struct profile *p = s->profile;
    enum remote_status rs = snapshot_begin(&s->snap);
    if (rs == REMOTE_GONE || rs == REMOTE_DENIED)
        return false;
    s->first_read = s->snap.reads;
    s->walk_steps_left = SAMPLE_WALK_STEPS;
    s->second_looks_left = SAMPLE_MAX_SECOND_LOOKS;
    s->gil_self_check = ++s->samples % GIL_SELF_CHECK_SAMPLES == 0;
    read_gil(s);
    size_t count = 0, interpreters = 0;
    struct code_generation gen;
    enum threads_status ts = py_threads_read(s->target, &s->snap, s->threads, PY_MAX_THREADS,
                                             &count, &gen, &interpreters, thread_at_rest, s);
    stack_resolver_begin_sample(&s->resolver, &gen);
    settle_gil(s, ts, count, interpreters);
    nest_threads(s, count, interpreters);
    s->runtime_unloaded = ts == THREADS_NO_RUNTIME;
    bool alive = ts != THREADS_GONE && !s->runtime_unloaded;
    if (ts == THREADS_PARTIAL)
        count_error(p, SAMPLE_ERROR_THREAD_LIST);
    size_t known_threads = p->tree.nthreads;
    alive = alive && sample_threads(s, count, weight_ns);
    size_t os_threads = count - s->thread_states_entered;
    if (os_threads > p->stats.max_threads)
        p->stats.max_threads = (uint32_t)os_threads;
    snapshot_end(&s->snap);
    /* Threads first seen in this round get their OS names now, after every
     * read of the round: /proc is slow next to a sample. */
    for (size_t i = known_threads; i < p->tree.nthreads; i++)
        process_thread_name(p->pid, p->tree.threads[i].tid, p->tree.threads[i].name,
                            sizeof(p->tree.threads[i].name));
    return alive;
}

/* Seconds from `from` to `to`, as getrusage gives CPU times. */
static double seconds_between(struct timeval from, struct timeval to)
{
    return (double)(to.tv_sec - from.tv_sec) + (double)(to.tv_usec - from.tv_usec) / 1e6;
}

static void sampler_init(struct sampler *s, struct py_target *t, struct profile *p)
{
    memset(s, 0, sizeof(*s));
    s->target = t;
    s->profile = p;
    snapshot_init(&s->snap, &t->remote);
    code_cache_init(&s->codes, &t->remote, &t->layout, t->code_type);
    stack_resolver_init(&s->resolver, p, &s->codes, &s->snap, t);
    s->threads = xmalloc(PY_MAX_THREADS * sizeof(*s->threads));
    s->frames = xmalloc(PY_MAX_STACK_DEPTH * sizeof(*s->frames));
    s->deferred = xmalloc(PY_MAX_THREADS * sizeof(*s->deferred));
    s->outer = xmalloc(PY_MAX_THREADS * sizeof(*s->outer));
    s->entering = xmalloc(PY_MAX_THREADS * sizeof(*s->entering));
    u64map_init(&s->outermost_by_tid);
    s->wait_random = random_seed(clock_now_ns());
    s->usage_known = getrusage(RUSAGE_SELF, &s->usage_at_start) == 0;
}

/*
 * Add what this sampler cost to the profile's costs. A profile that follows
 * its target through an exec is sampled by one sampler per program, each
 * with its own target and counters: their costs add up, and the CPU counted
 * is what strobe used since this sampler began, not while it attached or
 * waited for the new program's interpreter.
 */
static void record_costs(struct sampler *s)
{
    struct profile_costs *c = &s->profile->costs;
    c->syscalls += s->target->remote.counters.syscalls;
    c->bytes_read += s->target->remote.counters.bytes;
    c->remote_ranges += s->target->remote.counters.ranges;
    c->plans += s->snap.stats.samples;
    c->plan_ranges += s->snap.stats.plan_ranges;
    c->plan_bytes += s->snap.stats.plan_bytes;
    c->plan_hits += s->snap.stats.hits;
    c->plan_misses += s->snap.stats.misses;
    c->plan_rebuilds += s->snap.stats.rebuilds;
    c->plan_unmapped += s->snap.stats.failed_ranges;
    c->code_decoded += s->codes.stats.decoded;
    c->code_replaced += s->codes.stats.replaced;
    c->code_failed += s->codes.stats.failed;
    c->code_raced += s->codes.stats.raced;
    c->frames_reused += s->resolver.frames_reused;
    c->frames_resolved += s->resolver.frames_resolved;
    c->identity_checks += s->resolver.identity_checks;
    c->identity_checks_skipped += s->resolver.identity_checks_skipped;
    c->generation_broken |= s->resolver.generation_broken;
    struct rusage ru;
    if (!s->usage_known || getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    c->cpu_user_s += seconds_between(s->usage_at_start.ru_utime, ru.ru_utime);
    c->cpu_system_s += seconds_between(s->usage_at_start.ru_stime, ru.ru_stime);
    c->peak_rss_kb = MAX(c->peak_rss_kb, (uint64_t)ru.ru_maxrss);
}

static void sampler_free(struct sampler *s)
{
    stack_resolver_free(&s->resolver);
    code_cache_free(&s->codes);
    snapshot_free(&s->snap);
    free(s->threads);
    free(s->frames);
    free(s->deferred);
    free(s->outer);
    free(s->entering);
    u64map_free(&s->outermost_by_tid);
}

struct sampler *sampler_new(struct py_target *target, struct profile *profile)
{
    struct sampler *s = xmalloc(sizeof(*s));
    sampler_init(s, target, profile);
    return s;
}

bool sampler_sample(struct sampler *s, uint64_t weight_ns)
{
    return sample_once(s, weight_ns);
}

void sampler_delete(struct sampler *s)
{
    record_costs(s);
    sampler_free(s);
    free(s);
}

/* The profile's missed rounds before this sampler began (a profile that
 * follows its target through an exec), to which the timer's are added. */
struct missed_so_far {
    uint64_t missed, missed_waiting;
};

/* Keep the profile's missed rounds current as sampling goes, so that the
 * live statistics (--realtime-stats) see them. */
static void count_missed(struct profile *p, const struct sample_timer *timer,
                         struct missed_so_far before)
{
    p->stats.missed = before.missed + timer->missed;
    p->stats.missed_waiting = before.missed_waiting + timer->missed_waiting;
}

enum stop_reason sampler_run(struct py_target *target, const struct sampler_options *opts,
                             struct profile *profile, sampler_poll_fn poll, void *poll_ctx)
{
    struct sampler s;
    sampler_init(&s, target, profile);
    profile->pid = target->pid;
    profile->stats.interval_ns = opts->interval_ns;
    profile->stats.depth_limit = PY_MAX_STACK_DEPTH;

    struct sample_timer timer;
    profile->costs.cpu_policy = cpu_policy_name(opts->cpu_policy);
    profile->costs.cpu_policy_refused = !timer_set_cpu_policy(opts->cpu_policy);
    timer_reduce_slack();
    struct wake_cost wake_cost = timer_measure_wake_cost();
    uint64_t run_delay_before = timer_run_delay_ns();
    uint64_t now = clock_now_ns();
    timer_start(&timer, opts->interval_ns, now, wake_cost);
    profile->costs.late_threshold_ns =
        MIN(MAX(LATE_SAMPLE_MIN_NS, 2 * wake_cost.latency_ns), LATE_SAMPLE_MAX_NS);
    /* A profile continued after the target exec'd keeps its start. */
    if (!profile->stats.samples) {
        profile->stats.start_ns = now;
        profile->stats.start_unix_ns = clock_unix_ns();
    }
    uint64_t previous = now;    /* the moment the previous sample stands at */
    uint64_t stop_ns = opts->duration_ns ? profile->stats.start_ns + opts->duration_ns : 0;
    /* The version is completed once this program's interpreter is up (its
     * first thread stacks), not the profile's: after an exec, in turn. */
    uint64_t thread_samples_before = profile->stats.thread_samples;
    bool version_refined = false;
    struct missed_so_far missed = { profile->stats.missed, profile->stats.missed_waiting };
    enum stop_reason reason;
    for (;;) {
        int polled = poll ? poll(poll_ctx, profile, now) : SAMPLER_CONTINUE;
        if (polled != SAMPLER_CONTINUE) {
            reason = (enum stop_reason)polled;
            /* strobe may have been stopped (Ctrl-Z) since `now` was read:
             * the profile lasts until the stop is seen. */
            now = clock_now_ns();
            break;
        }
        /* A slow rate still polls (a signal, an exec, the target's exit). */
        uint64_t wake_by = now + SAMPLER_POLL_NS;
        if (stop_ns && stop_ns < wake_by)
            wake_by = stop_ns;
        now = timer_wait(&timer, wake_by);
        if (stop_ns && now >= stop_ns) {
            reason = STOP_DURATION;
            break;
        }
        if (now < timer.next_ns)
            continue;   /* woken early by a signal */
        if (now - timer.next_ns > profile->costs.late_threshold_ns)
            profile->costs.late_samples++;
        /* A sample stands for the time since the one before, each taken at
         * the middle of its reads, where its stacks were proved (README,
         * "How it works"): the time a read took is only known once it is
         * done, so its first half is added to this round's stacks then.
         * Weighing by the time since the previous read began instead gave
         * a slow read's whole time (a deep stack's, or one that failed as
         * it unwound) to the stack after it. */
        calltree_round_begin(&profile->tree);
        s.looks_until_ns = now + opts->interval_ns / SAMPLE_LOOK_BUDGET_SHARE;
        bool alive = sample_once(&s, now - previous);
        uint64_t done = clock_now_ns();
        uint64_t to_middle = (done - now) / 2;
        calltree_round_end(&profile->tree, alive ? to_middle : 0);
        if (!alive) {
            /* Gone, or still there but no longer ours to read: it exec'd a
             * program that raised its privileges (setuid); or it unloaded
             * libpython. */
            reason = target->remote.denied ? STOP_READ_FAILED
                     : s.runtime_unloaded  ? STOP_UNLOADED
                                           : STOP_EXITED;
            break;
        }
        profile->stats.samples++;
        if (!version_refined && profile->stats.thread_samples > thread_samples_before) {
            py_target_refine_version(target);
            version_refined = true;
        }
        previous = now + to_middle;
        /* The sample took its time (or strobe was stopped meanwhile): a
         * stop found at the top of the loop ends the profile now, not when
         * this sample began, as the slots skipped up to now are counted. */
        now = clock_now_ns();
        timer_advance(&timer, now);
        count_missed(profile, &timer, missed);
    }
    uint64_t run_delay_after = timer_run_delay_ns();
    py_target_describe(target, profile->target, sizeof(profile->target));
    py_version_format(target->layout.version, profile->python, sizeof(profile->python));
    profile->stats.end_ns = now;
    timer_finish(&timer, now);
    count_missed(profile, &timer, missed);
    if (run_delay_after > run_delay_before)
        profile->costs.run_delay_ns += run_delay_after - run_delay_before;
    profile->stop = reason;
    record_costs(&s);
    sampler_free(&s);
    return reason;
}
