/*
 * frames.c — the frame walker; see frames.h.
 */
#include "python/frames.h"

#include "base/cycle.h"

#include <string.h>

#define FRAME_ALIGN 8
/* _PyStackRef tag bits (3.14+); objects are at least 8-byte aligned. */
#define STACKREF_TAG_MASK ((uint64_t)7)
/* _PyFrameOwner: the frame lives on its thread's data stack. */
#define OWNED_BY_THREAD 0

const char *walk_status_name(enum walk_status st)
{
    switch (st) {
    case WALK_OK: return "ok";
    case WALK_TRUNCATED: return "stack deeper than the limit";
    case WALK_UNREADABLE: return "frame or code object unreadable";
    case WALK_BAD_FRAME: return "frame changed while being read";
    case WALK_CYCLE: return "frame chain loops";
    case WALK_MOVED: return "stack changed while being read";
    case WALK_GONE: return "process exited";
    }
    return "unknown";
}

static uint64_t field_u64(const uint8_t *obj, uint32_t offset)
{
    uint64_t v;
    memcpy(&v, obj + offset, sizeof(v));
    return v;
}

static enum walk_status unreadable(const struct snapshot *s)
{
    return s->last_error == REMOTE_GONE ? WALK_GONE : WALK_UNREADABLE;
}

/* Byte offset of the current instruction of a frame (<0: not started). The
 * resolver checks it against the code object's size. */
static int64_t frame_offset(const struct py_layout *l, const uint8_t *frame, uint64_t code)
{
    if (l->frame_model == FRAME_MODEL_OBJECT) {
        int32_t lasti;
        memcpy(&lasti, frame + l->frame.position, sizeof(lasti));
        return lasti < 0 ? -1 : (int64_t)lasti * l->lasti_unit;
    }
    uint64_t ip = field_u64(frame, l->frame.position);
    uint64_t first = code + l->code.code_adaptive;
    if (ip < first)
        return -1;
    /* Far outside any code object: a torn frame; flagged by the resolver. */
    return ip - first > (uint64_t)INT32_MAX ? INT32_MAX : (int64_t)(ip - first);
}

/* Words of localsplus a frame holds (3.11+, see layout.h), or
 * STACK_DEPTH_UNKNOWN. */
static int64_t frame_stack_depth(const struct py_layout *l, const uint8_t *frame, uint64_t addr)
{
    if (l->frame.stack_depth == OFFSET_NONE)
        return STACK_DEPTH_UNKNOWN;
    if (!l->stack_depth_is_pointer) {
        int32_t top;
        memcpy(&top, frame + l->frame.stack_depth, sizeof(top));
        return top;
    }
    uint64_t sp = field_u64(frame, l->frame.stack_depth), base = addr + l->frame.localsplus;
    if (sp < base || (sp - base) % sizeof(uint64_t) || sp - base > (uint64_t)INT32_MAX)
        return STACK_DEPTH_UNKNOWN;     /* NULL while running (debug builds), or torn */
    return (int64_t)((sp - base) / sizeof(uint64_t));
}

/* Are the `size` (4 or 8) bytes at `offset` of a and b equal? Fixed-size
 * loads: this runs for every frame of every sample. */
static inline bool field_equal(const uint8_t *a, const uint8_t *b, uint32_t offset, uint32_t size)
{
    if (size == sizeof(uint32_t)) {
        uint32_t x, y;
        memcpy(&x, a + offset, sizeof(x));
        memcpy(&y, b + offset, sizeof(y));
        return x == y;
    }
    return field_u64(a, offset) == field_u64(b, offset);
}

/* The fields that differ when a frame is not the same activation any more:
 * its code and caller, and — for a caller, stopped at its call — its
 * position and stack depth. The innermost frame's may move on. */
static bool same_activation(const struct py_layout *l, const uint8_t *a, const uint8_t *b,
                            bool innermost)
{
    if (field_u64(a, l->frame.code) != field_u64(b, l->frame.code) ||
        field_u64(a, l->frame.back) != field_u64(b, l->frame.back))
        return false;
    if (innermost)
        return true;
    uint32_t pos_size = l->frame_model == FRAME_MODEL_OBJECT ? sizeof(int32_t) : sizeof(uint64_t);
    uint32_t depth_size = l->stack_depth_is_pointer ? sizeof(uint64_t) : sizeof(int32_t);
    return field_equal(a, b, l->frame.position, pos_size) &&
           (l->frame.stack_depth == OFFSET_NONE ||
            field_equal(a, b, l->frame.stack_depth, depth_size));
}

/* Of two copies of the innermost frame that differ, the one showing it
 * popped (3.14+: its executable cleared), if the other does not and they
 * agree on its caller and owner (frames.h); else NULL. */
static const uint8_t *cleared_copy(const struct py_layout *l, const uint8_t *a, const uint8_t *b)
{
    if (!l->executable_is_stackref || field_u64(a, l->frame.back) != field_u64(b, l->frame.back) ||
        (l->frame.owner != OFFSET_NONE && a[l->frame.owner] != b[l->frame.owner]))
        return NULL;
    bool a_cleared = (field_u64(a, l->frame.code) & ~STACKREF_TAG_MASK) == 0;
    bool b_cleared = (field_u64(b, l->frame.code) & ~STACKREF_TAG_MASK) == 0;
    if (a_cleared == b_cleared)
        return NULL;
    return a_cleared ? a : b;
}

/* A frame object that is still running (3.8–3.10): referenced, and in an
 * executing state. */
static bool frame_object_alive(const struct py_layout *l, const uint8_t *frame)
{
    int64_t refcount;
    memcpy(&refcount, frame + l->ob_refcnt, sizeof(refcount));
    int8_t state = (int8_t)frame[l->frame.state];
    return refcount > 0 && state >= 0 && state < 32 &&
           (l->frame_live_states & (1u << state)) != 0;
}

/* Is a frame at addr (3.11+) in the free part of the data stack, as either
 * copy of the thread state tells? */
static bool in_free_stack(const struct py_layout *l, const struct stack_bounds *b, uint64_t addr)
{
    for (int c = 0; c < 2; c++)
        if (addr + l->frame_read_size > b->copy[c].top && addr < b->copy[c].limit)
            return true;
    return false;
}

/* Both copies of a frame show it alive (see frames.h). */
static bool frame_alive(const struct py_layout *l, const struct stack_bounds *b, uint64_t addr,
                        const uint8_t *main, const uint8_t *last)
{
    if (l->frame_model == FRAME_MODEL_OBJECT)
        return frame_object_alive(l, main) && frame_object_alive(l, last);
    return !b->known || !in_free_stack(l, b, addr);
}

/* Can a chain end (previous == NULL) at a frame of this owner? Every
 * evaluation loop starts from an entry frame (3.12+); in 3.11 the outermost
 * frame is on the data stack, or is a generator's resumed from C with no
 * Python frame below it (is_entry: a thread started on a generator's
 * __next__). Any other generator's frame ends a chain only once it has
 * yielded and let go of its caller. */
static bool valid_root(const struct py_layout *l, int owner, bool entered_from_c)
{
    if (l->frame_model == FRAME_MODEL_OBJECT)
        return true;
    if (l->internal_owner_min != OFFSET_NONE)
        return owner >= (int)l->internal_owner_min;
    return owner == OWNED_BY_THREAD || entered_from_c;
}

/* How the Python frame visited last (the callee of the next) was called and
 * where it is held, which decides what its caller must show. */
enum callee_link {
    CALLEE_NONE,        /* unknown, or no frame visited yet */
    CALLEE_INLINE,      /* pushed by its caller's evaluation loop, next to it
                           on the data stack */
    CALLEE_VIA_C,       /* called from C (through an entry frame, or 3.11's
                           is_entry), on the same data stack */
    CALLEE_ELSEWHERE,   /* a generator's frame, in its own object */
};

/* The link a frame makes to the next one visited; `internal` frames pass on
 * the link of the frame above them. */
static enum callee_link how_called(const struct py_layout *l, const uint8_t *frame, int owner,
                                   bool internal, enum callee_link above)
{
    if (l->frame_model == FRAME_MODEL_OBJECT)
        return CALLEE_ELSEWHERE;    /* every frame is an object of its own */
    if (internal)
        return above == CALLEE_INLINE ? CALLEE_VIA_C : above;
    if (owner != OWNED_BY_THREAD)
        return CALLEE_ELSEWHERE;
    if (l->frame.is_entry != OFFSET_NONE && frame[l->frame.is_entry])
        return CALLEE_VIA_C;
    return CALLEE_INLINE;
}

/* A stack caught changing, at `site`. */
static enum walk_status moved_at(struct walk_result *result, enum tear_site site)
{
    result->torn_at = site;
    return WALK_MOVED;
}

/*
 * What a caller must show, beyond what every frame must (frames.h). A
 * callee held elsewhere (a generator's frame; in 3.8-3.10 every frame, each
 * an object of its own) was copied at other times: a loop that returned to
 * the caller and called from the same place again can give the caller
 * look-alike copies at both ends while, in the middle, it was elsewhere; a
 * third copy, in the middle, must agree.
 * (A callee on the same data stack was copied with it: the two were as they
 * are at the same moment.) And a frame that called inline has run past its
 * first instruction (3.11–3.12; the resolver checks it is not at a return).
 */
static enum walk_status check_caller(const struct py_layout *l, struct snapshot *s,
                                     uint64_t addr, const uint8_t *frame, uint64_t code,
                                     int owner, enum callee_link link,
                                     struct walk_result *result)
{
    if (link == CALLEE_INLINE && l->inline_callers_started && frame_offset(l, frame, code) <= 0)
        return moved_at(result, TEAR_CALLER);
    bool objects = l->frame_model == FRAME_MODEL_OBJECT;
    if (link != CALLEE_ELSEWHERE || (!objects && owner != OWNED_BY_THREAD))
        return WALK_OK;
    const uint8_t *middle = snapshot_get_middle(s, addr, l->frame_read_size);
    if (!middle)
        result->verified = false;
    else if (!same_activation(l, frame, middle, false))
        return moved_at(result, TEAR_CALLER);
    /* See frames.h for why 3.8-3.10 do not ask the leaf to hold still. */
    if (!objects)
        result->middle_used = true;
    return WALK_OK;
}

enum walk_status py_walk_frames(const struct py_target *t, struct snapshot *s, uint64_t leaf,
                                const struct stack_bounds *bounds, struct raw_frame *out,
                                size_t max, size_t *steps_left, struct walk_result *result)
{
    /* The layout facts used per frame, in locals: this loop runs for every
     * frame of every thread of every sample. */
    const struct py_layout *l = &t->layout;
    const uint32_t read_size = l->frame_read_size, back_at = l->frame.back;
    const uint32_t code_at = l->frame.code, owner_at = l->frame.owner;
    const uint32_t internal_owner = l->internal_owner_min;
    const uint64_t code_mask = l->executable_is_stackref ? ~STACKREF_TAG_MASK : ~(uint64_t)0;
    /* Whether the innermost data-stack frame is still to be found. */
    bool find_end = l->frame_specials_words != OFFSET_NONE && bounds->known;
    *result = (struct walk_result){ .verified = true, .torn_at = TEAR_INNERMOST };
    int owner = -1;     /* of the frame last visited */
    bool entered_from_c = false;    /* ... and its is_entry (3.11) */
    enum callee_link callee = CALLEE_NONE;   /* how that frame was called */
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    size_t n = 0, steps = 0;
    size_t max_steps = MIN(py_walk_steps(max), *steps_left);
    for (uint64_t addr = leaf; addr; steps++) {
        if (addr % FRAME_ALIGN)
            return WALK_BAD_FRAME;
        if (cycle_check_step(&cycle, addr))
            return WALK_CYCLE;
        if (steps >= max_steps) {
            /* No Python frame that far: the chain does not end, or runs
             * through frames walked already (another thread's). */
            result->depth = n;
            return n ? WALK_TRUNCATED : WALK_CYCLE;
        }
        --*steps_left;
        const uint8_t *frame = snapshot_get(s, addr, read_size);
        if (!frame)
            return unreadable(s);
        owner = owner_at != OFFSET_NONE ? frame[owner_at] : -1;
        bool internal = owner_at != OFFSET_NONE && (uint32_t)owner >= internal_owner;
        if (internal && steps == 0 && field_u64(frame, back_at) != 0)
            return moved_at(result, TEAR_INNERMOST);    /* a loop starting or ending (frames.h) */
        struct snapshot_watch w = snapshot_watch_got(s, frame, addr, read_size,
                                                     internal ? WATCH_CENTRE : WATCH_FRAMES);
        const uint8_t *cleared = NULL;  /* the innermost frame's copy showing it popped */
        if (!w.last) {
            result->verified = false;
        } else {
            if (!same_activation(l, frame, w.last, steps == 0)) {
                cleared = steps == 0 ? cleared_copy(l, frame, w.last) : NULL;
                if (!cleared)
                    return moved_at(result, tear_site_at(steps));
            }
            if (!frame_alive(l, bounds, addr, frame, w.last))
                return moved_at(result, tear_site_at(steps));
            if (cleared == frame)
                frame = w.last;     /* the other copy speaks for it */
        }
        uint64_t back = field_u64(frame, back_at);
        entered_from_c = l->frame.is_entry != OFFSET_NONE && frame[l->frame.is_entry];
        enum callee_link link = callee;
        callee = how_called(l, frame, owner, internal, link);
        if (internal) {
            addr = back;    /* entry/shim frame: no Python function here */
            continue;
        }
        uint64_t code = field_u64(frame, code_at) & code_mask;
        if (!code) {
            /* Being pushed or torn down right now: not a function yet (or
             * any more). Its caller is still a true stack. */
            callee = CALLEE_NONE;
            addr = back;
            continue;
        }
        enum walk_status caller_status = check_caller(l, s, addr, frame, code, owner, link,
                                                      result);
        if (caller_status != WALK_OK)
            return caller_status;
        if (code % FRAME_ALIGN)
            return WALK_BAD_FRAME;
        if (n == max) {
            result->depth = n;
            return WALK_TRUNCATED;
        }
        if (find_end && owner == OWNED_BY_THREAD) {
            result->end = (struct stack_end_check){ true, n, addr, bounds->copy[0].top };
            find_end = false;
        }
        /* The innermost frame may move on between its copies: where the
         * first shows it popped (a loop returning and calling it again), its
         * position is the last activation's; the second's is this one's. */
        const uint8_t *shown = frame;
        if (steps == 0 && w.last && !cleared && frame_stack_depth(l, frame, addr) == 0)
            shown = w.last;
        out[n].code = code;
        out[n].offset = frame_offset(l, shown, code);
        out[n].stack_depth = frame_stack_depth(l, shown, addr);
        out[n].calls_inline = link == CALLEE_INLINE;
        out[n].cleared_offset = cleared ? frame_offset(l, cleared, code) : CLEARED_OFFSET_NONE;
        n++;
        addr = back;
    }
    result->depth = n;
    if (steps > 0 && !valid_root(l, owner, entered_from_c))
        return moved_at(result, tear_site_at(steps - 1));
    return WALK_OK;
}
