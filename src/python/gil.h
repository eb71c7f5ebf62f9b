/*
 * gil.h — which threads cannot have run Python code, from the GIL's own
 * bookkeeping.
 *
 * A thread runs Python code only while it holds the GIL. The GIL records the
 * thread that took it last, and counts the times it passed to a different
 * thread: a taker that is not the last holder becomes it and bumps the count
 * before it runs any code. So while the count stands still, only the last
 * holder can have run; every other thread's frames stood still. Copied first
 * and last in a sample's read (snapshot FIRST and LATE phases), equal copies
 * show the count still for the whole read, and the same count in a later
 * sample extends that to everything in between; one higher, that the GIL
 * passed once, from the holder the first sample saw to the one the later
 * sees, so that only those two can have run in between. The copies vouch
 * only for what that one read copied: a second look within the sample comes
 * after the LATE copy, when another thread may have taken the GIL, unless
 * that look's own copies still show the same count.
 *
 * A thread state, that is: the GIL's last holder is one, not an OS thread.
 * Entering another interpreter switches the running thread state, and on
 * 3.8–3.11 (PyThreadState_Swap) that does not pass the GIL: there
 * _xxsubinterpreters.run_string runs a subinterpreter's thread state while
 * the GIL still names the caller's, and the count stands still.
 *
 * Known where strobe knows where the GIL is (layout.h), and only when the
 * process has one interpreter: the GIL is in the runtime (3.8–3.11) or in
 * the interpreter (3.12+: a subinterpreter may have a GIL of its own, or
 * share the main one's).
 */
#ifndef STROBE_PYTHON_GIL_H
#define STROBE_PYTHON_GIL_H

#include "proc/snapshot.h"
#include "python/target.h"

struct gil_state {
    uint64_t last_holder;   /* remote PyThreadState */
    uint64_t switches;
    bool known;             /* copied first and last, and the copies agree */
};

/* The GIL the threads of this sample take (their `interpreters`, the first
 * at `interp`), or 0 if strobe does not know it. */
uint64_t py_gil_address(const struct py_target *t, uint64_t interp, size_t interpreters);

/* The GIL's state across the whole of this sample's read. */
void py_gil_read(struct snapshot *s, uint64_t gil, struct gil_state *out);

#endif
