/*
 * threads.h — the Python threads of every interpreter in the target, as of
 * one sample.
 *
 * Walks _PyRuntime.interpreters.head -> interp->next and, for each
 * interpreter, threads.head -> tstate->next, reading through the sample's
 * snapshot. Remote lists are untrusted: both walks are bounded and detect
 * cycles, and a thread state must point back at its interpreter.
 */
#ifndef STROBE_PYTHON_THREADS_H
#define STROBE_PYTHON_THREADS_H

#include "proc/snapshot.h"
#include "python/frames.h"
#include "python/target.h"

/* Bounds on remote lists; beyond them the rest is ignored and counted. */
#define PY_MAX_INTERPRETERS 256
#define PY_MAX_THREADS 4096
/* How long the head of the interpreter list is trusted before re-reading. */
#define INTERP_LIST_REFRESH_NS ((uint64_t)10 * 1000 * 1000)

struct py_thread {
    uint64_t tstate;        /* remote PyThreadState address */
    uint64_t interp;
    uint64_t tid;           /* kernel thread id; 0 if unknown */
    uint64_t leaf_frame;    /* innermost frame; 0 if the thread runs no Python */
    uint64_t leaf_pointer;  /* the remote pointer leaf_frame was read from */
    /* Where its live frames can be (frames.h), from the thread state at the
     * centre of the read (or both its copies). The pointers that led to
     * leaf_frame and the bounds are watched: leaf_moved if copies differ,
     * !leaf_verified if they were not copied where they must be yet. */
    struct stack_bounds bounds;
    bool leaf_moved, leaf_verified;
    /* Not read: the caller knew its innermost frame (py_thread_known_fn). */
    bool at_rest;
    uint64_t read_no;       /* the snapshot read (snapshot.reads) this is from */
};

/*
 * Asked for each thread state before the pointers to its innermost frame are
 * read: true if the caller can prove where that frame is without them (the
 * thread has not run since it was last read: python/gil.h), with the frame in
 * *leaf_frame. Those reads are most of a resting thread's cost (3.11-3.12:
 * a page of its C stack).
 */
typedef bool (*py_thread_known_fn)(void *ctx, uint64_t tstate, uint64_t tid,
                                   uint64_t *leaf_frame);

enum threads_status {
    THREADS_OK,
    THREADS_PARTIAL,        /* a list was corrupt or racing: some threads missed */
    THREADS_GONE,           /* the process cannot be read any more */
    THREADS_NO_RUNTIME,     /* the runtime is no longer mapped: the program
                               unloaded libpython (dlclose) */
};

/*
 * The code-object generation of this sample: the sum of the interpreters'
 * counters that move whenever a code object may have been replaced (see
 * py_layout.interp.code_generation). Read after everything else in the
 * sample (a "late" snapshot read), so that if it equals an earlier sample's
 * value, no code object read in between can have been replaced.
 */
struct code_generation {
    uint64_t value;
    bool valid;         /* false: this target has no such counter */
};

/* The code generation as it stands now, read directly (not from a sample). */
bool py_code_generation_now(struct py_target *t, struct code_generation *gen);

/* The code generation from the snapshot's latest copy (a second look reads
 * the LATE values again, after its frames). */
bool py_code_generation_latest(struct py_target *t, struct snapshot *s,
                               struct code_generation *gen);

/* Did the pointer to a thread's innermost frame hold still from before the
 * centre of the read until after its MIDDLE phase? A stack proved with a
 * frame's third copy (frames.h) needs it: taken after the centre, that copy
 * speaks for the moment the stack was read at only if the same innermost
 * frame ran all along. The first time, the pointer gets its second copy
 * planned (LEAF_UNCHECKED: look again). */
enum leaf_hold {
    LEAF_HELD,
    LEAF_UNCHECKED,
    LEAF_MOVED,
};
enum leaf_hold py_thread_leaf_held(struct snapshot *s, const struct py_thread *thr);

/* Re-read one thread's state from the snapshot's latest read: its innermost
 * frame and kernel thread id now. false if it no longer looks like a thread
 * of its interpreter. */
bool py_thread_refresh(struct py_target *t, struct snapshot *s, struct py_thread *thr);

/* Fill out[0..max) with this sample's threads; *count is how many, of
 * *interpreters interpreters (the first at t->interp_head). `known` (may be
 * NULL) is asked about each thread, with `ctx`. */
enum threads_status py_threads_read(struct py_target *t, struct snapshot *s,
                                    struct py_thread *out, size_t max, size_t *count,
                                    struct code_generation *gen, size_t *interpreters,
                                    py_thread_known_fn known, void *ctx);

#endif
