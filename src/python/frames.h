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
 */
#ifndef STROBE_PYTHON_FRAMES_H
#define STROBE_PYTHON_FRAMES_H

#include "proc/snapshot.h"
#include "python/target.h"

/* Deepest stack kept whole; deeper stacks keep their innermost frames and
 * are marked truncated. */
#define PY_MAX_STACK_DEPTH 16384

struct raw_frame {
    uint64_t code;      /* remote code object */
    int64_t offset;     /* byte offset of the current instruction, <0 if none */
};

enum walk_status {
    WALK_OK,
    WALK_TRUNCATED,     /* deeper than the buffer: innermost frames kept */
    WALK_UNREADABLE,    /* a frame or code object could not be read */
    WALK_BAD_FRAME,     /* a frame failed validation (torn or corrupt) */
    WALK_CYCLE,         /* the chain loops */
    WALK_GONE,          /* the process cannot be read any more */
};

#define WALK_STATUS_COUNT 6

const char *walk_status_name(enum walk_status st);

/* Walk from `leaf`; frames land in out[0..*depth), innermost first. */
enum walk_status py_walk_frames(const struct py_target *t, struct snapshot *s, uint64_t leaf,
                                struct raw_frame *out, size_t max, size_t *depth);

#endif
