/*
 * frames.h — walking one thread's chain of Python frames.
 *
 * From the innermost frame outwards, following f_back (3.8–3.10) or
 * `previous` (3.11+), producing for each Python function call the code object
 * and the byte offset of the instruction it is executing (in callers: the
 * call). Interpreter-internal entry/shim frames are walked through but not
 * reported. Nothing is resolved to names here: that is the code cache's job,
 * so that an unchanged frame costs no more than reading it.
 *
 * The chain is read while the thread runs. Every frame is checked (aligned,
 * readable, plausible owner and code pointer), the walk is bounded and
 * cycle-checked, and any failure makes the thread's sample an error rather
 * than a wrong stack. (The resolver checks the rest: that the code object is
 * one, and the position lies inside it.)
 *
 * The thread runs while its frames are copied, so a stack read is only
 * reported if it is proved to be one the thread really had. The walk starts
 * from the innermost frame as one copy at the centre of the read names it
 * (threads.c), and every frame is watched (snapshot.h): both its copies must
 * show the same activation (code, caller and, for a caller, the position of
 * its call), so each held still around that moment. And at that moment each
 * must have been alive, not a finished frame still linked from somewhere:
 *  - 3.11+: outside the free part of the thread's data stack (above
 *    datastack_top) as the thread state tells at the centre (and, where it
 *    is copied twice, in both copies); the outermost frame
 *    must be an interpreter entry frame (3.12+) or on the data stack (3.11),
 *    not a generator whose caller link was cleared when it yielded; in
 *    3.11–3.12 the innermost data-stack frame must end at datastack_top
 *    (see layout.h for why); and in 3.13+ no frame may show the stack depth
 *    that popping a frame leaves, 0, unless its function has no locals
 *    (checked by the resolver, which knows co_nlocalsplus);
 *  - 3.8–3.10: its reference count above zero and its state "executing" in
 *    both copies.
 * (3.11-3.12's pointer to the struct that names the innermost frame is
 * watched as well, by threads.c.) A stack that fails is WALK_MOVED.
 *
 * Alike copies can still hide a change: a loop that returns to a frame and
 * calls again from the same place gives it look-alike copies at both ends.
 * Frames above it on the data stack were copied with it, so the stack read
 * is still one the thread had, unless they had returned (3.13+ mark such
 * frames, see above). But a frame whose callee is a generator's frame, held
 * in its own object, is linked to a frame copied at other times: such a
 * caller gets a third copy, in the middle of the read (snapshot.h, MIDDLE),
 * which must agree, while the pointer to the innermost frame holds still
 * from before the centre until after that copy (threads.h). In 3.8-3.10
 * every frame is an object of its own, which its function reuses when it is
 * called again, so every caller gets the third copy; but there the pointer
 * to the innermost frame changes too often to be held for that long (a
 * quarter of shallow reads failed so). The innermost frame's own copies
 * stand in: it must be running in both, with the same code and caller, and
 * the second comes after the third copies, so a caller that moved and came
 * back meanwhile must also have called a look-alike of it again within that
 * moment. That is not as rare as it sounds: CPython hands a finished frame
 * object to the next call of its function, or from a last-in-first-out free
 * list to the next call of any, so recursive code meets the same addresses
 * again within microseconds, and every one of these checks counts. In the
 * churning-stack test, one copy of each caller (in MIDDLE, vouched for by
 * the innermost frame alone) reported impossible stacks on 3.10, and so did
 * letting the innermost frame show at rest in its first copy, as if just
 * called, on 3.9 (7 runs in 61). And in
 * 3.11–3.12, which leave a popped frame as it was, a frame that called
 * another straight from its evaluation loop must be past its first
 * instruction, where a just-called frame is, and not at a return, where a
 * popped one is (the resolver knows where those are).
 *
 * The innermost frame may also be pushed or popped between its copies. 3.13
 * leaves a popped frame's code in place, so the rule above holds: the same
 * code in both. 3.14+ clear it, and the copy taken popped shows none; but
 * it still shows where the frame stood last, its instruction pointer, which
 * lies in the code of the activation popped. If that is inside the code
 * the other copy shows, with the same caller, the copies show one function
 * there, as in 3.13, and the other copy speaks for it. (A loop calling a
 * short function pushes and pops it all the time: such copies were most
 * of the torn reads of 3.14-3.15 stacks that do.)
 *
 * An entry frame (3.12+) innermost, with frames below it, is WALK_MOVED too:
 * an evaluation loop is starting or ending. Starting, 3.12 publishes the
 * loop's cframe before its current_frame, which for that moment still names
 * the entry frame a finished loop left at the same C stack depth, whose
 * caller link is long stale. And an entry frame has one copy only (it
 * cannot change while frames above it stay the same: snapshot.h), so with
 * none above it, nothing vouches for it. (One with no caller is a thread
 * outside Python: no stack.)
 */
#ifndef STROBE_PYTHON_FRAMES_H
#define STROBE_PYTHON_FRAMES_H

#include "proc/snapshot.h"
#include "python/target.h"

/* Deepest stack kept whole; deeper stacks keep their innermost frames and
 * are marked truncated. */
#define PY_MAX_STACK_DEPTH 16384

/* Internal frames between two Python frames are few; bound the walk so a
 * corrupt chain of "internal" frames cannot run forever. */
#define MAX_INTERNAL_FRAMES_PER_FRAME 4

/* Frames walked at most for a stack of up to `max` Python frames. */
static inline size_t py_walk_steps(size_t max)
{
    return (max + 1) * MAX_INTERNAL_FRAMES_PER_FRAME;
}

/* raw_frame.stack_depth where the version does not tell. */
#define STACK_DEPTH_UNKNOWN INT64_MIN
/* raw_frame.cleared_offset where no copy showed the frame popped. */
#define CLEARED_OFFSET_NONE INT64_MIN

struct raw_frame {
    uint64_t code;      /* remote code object */
    int64_t offset;     /* byte offset of the current instruction, <0 if none */
    /* Words of localsplus the frame holds (3.11+, layout.h). 3.13+: 0 in a
     * frame already popped, which the resolver tells from a live one by its
     * code object's co_nlocalsplus. */
    int64_t stack_depth;
    /* The frame above it was called straight from its evaluation loop: it
     * stands at that call (in 3.11–3.12, a popped frame stands at its
     * return; the resolver knows where those are). */
    bool calls_inline;
    /* The innermost frame, 3.14+: one copy showed it popped (its executable
     * cleared), and there it stood at this byte offset, which must lie in
     * the code the other copy shows (checked by the resolver); else
     * CLEARED_OFFSET_NONE. */
    int64_t cleared_offset;
};

enum walk_status {
    WALK_OK,
    WALK_TRUNCATED,     /* deeper than the buffer: innermost frames kept */
    WALK_UNREADABLE,    /* a frame or code object could not be read */
    WALK_BAD_FRAME,     /* a frame failed validation (torn or corrupt) */
    WALK_CYCLE,         /* the chain loops */
    WALK_MOVED,         /* the stack changed while it was copied, or led into
                           dead frames */
    WALK_GONE,          /* the process cannot be read any more */
};

#define WALK_STATUS_COUNT 7

/* The free part of a thread's current data-stack chunk, [top, limit), as
 * each copy of its thread state (MAIN, WATCH) tells: no live frame lies there
 * (3.11+). known is false for frame objects. */
struct stack_bounds {
    struct { uint64_t top, limit; } copy[2];
    bool known;
};

const char *walk_status_name(enum walk_status st);

/* 3.11–3.12: the innermost frame on the data stack, which must end exactly
 * at datastack_top; checked once its code object's size is known (by the
 * stack resolver). */
struct stack_end_check {
    bool wanted;
    size_t index;           /* in the walked frames, innermost first */
    uint64_t frame_addr;
    uint64_t top;           /* datastack_top, read with the leaf pointer */
};

/* Where a stack caught changing (WALK_MOVED, and the stack resolver's
 * RESOLVE_TORN) was seen to change; --stats counts torn reads by it (and
 * by WALK_BAD_FRAME, which the sampler takes for a tear as well). */
enum tear_site {
    TEAR_INNERMOST,     /* the innermost frame: pushed, popped or moved on
                           between its copies, or no longer alive */
    TEAR_CALLER,        /* a caller: returned to, or called again, while it
                           was copied */
    TEAR_FRAME_POINTER, /* the pointer that leads to the innermost frame
                           moved (3.11-3.12's anchor; a third copy's hold) */
    TEAR_BAD_FRAME,     /* a frame failed its checks (WALK_BAD_FRAME):
                           caught half-written, or corrupt */
    TEAR_SITE_COUNT,
};

/* The site of a change seen at the frame `index` frames from the innermost
 * (0). */
static inline enum tear_site tear_site_at(size_t index)
{
    return index == 0 ? TEAR_INNERMOST : TEAR_CALLER;
}

/* What a walk tells besides its frames. */
struct walk_result {
    size_t depth;           /* frames in out[], innermost first */
    /* False if some frame (or the bounds) had no second copy yet to check
     * it by: the stack reached memory the plan did not cover, worth a
     * second look. */
    bool verified;
    /* A caller was checked by its third copy: the stack holds only if
     * `leaf` was the innermost frame from the centre of the read until
     * after that copy (py_thread_leaf_held). */
    bool middle_used;
    struct stack_end_check end;
    enum tear_site torn_at; /* WALK_MOVED: where */
};

/* Walk from `leaf`; frames land in out[0..result->depth).
 * Each frame visited takes one of *steps_left; when they run out, the
 * stack is WALK_TRUNCATED (innermost frames kept), or WALK_CYCLE if no
 * Python frame was found by then (as after py_walk_steps(max) frames). */
enum walk_status py_walk_frames(const struct py_target *t, struct snapshot *s, uint64_t leaf,
                                const struct stack_bounds *bounds, struct raw_frame *out,
                                size_t max, size_t *steps_left, struct walk_result *result);

#endif
