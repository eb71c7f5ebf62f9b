/*
 * threads.c — enumerating interpreters and thread states; see threads.h.
 */
#include "python/threads.h"

#include "base/clock.h"
#include "base/cycle.h"
#include "proc/maps.h"

#include <string.h>

static uint64_t field_u64(const uint8_t *obj, uint32_t offset)
{
    uint64_t v = 0;
    memcpy(&v, obj + offset, sizeof(v));
    return v;
}

/* Kernel thread id of a thread state (0 when it cannot be known). */
static uint64_t thread_tid(struct py_target *t, struct snapshot *s, const uint8_t *ts)
{
    const struct py_layout *l = &t->layout;
    if (l->tstate.native_thread_id != OFFSET_NONE)
        return field_u64(ts, l->tstate.native_thread_id);
    /* <= 3.10: thread_id is a pthread_t, i.e. glibc's struct pthread, which
     * holds the kernel id at an offset learned at attach time. */
    if (t->pthread_tid_offset == OFFSET_NONE || t->pthread_tid_provisional)
        py_target_find_tid_offset(t);
    if (t->pthread_tid_offset == OFFSET_NONE)
        return 0;
    uint64_t pthread = field_u64(ts, l->tstate.thread_id);
    int32_t tid = 0;
    const uint8_t *raw = snapshot_get(s, pthread + t->pthread_tid_offset, sizeof(tid));
    if (!raw)
        return 0;
    memcpy(&tid, raw, sizeof(tid)); /* remote pointers need not be aligned */
    return tid > 0 ? (uint64_t)tid : 0;
}

/*
 * Where the thread's live data-stack frames can be (3.11+): datastack_top
 * and datastack_limit are adjacent, and copied at the centre of the read
 * with the frame pointer (twice, around it, where they share a range with
 * 3.11-3.12's anchor), so that frames are checked against the bounds of the
 * moment they are proved at (frames.h). Fetched on demand, off the centre,
 * the thread is unverified.
 */
static bool thread_stack_bounds(const struct py_layout *l, struct snapshot *s, uint64_t tstate,
                                struct py_thread *thr)
{
    thr->bounds.known = false;
    if (l->tstate.datastack_top == OFFSET_NONE)
        return true;
    struct snapshot_watch w = snapshot_get_watched(s, tstate + l->tstate.datastack_top,
                                                   sizeof(thr->bounds.copy[0]), WATCH_CENTRE);
    if (!w.main)
        return false;
    memcpy(&thr->bounds.copy[0], w.main, sizeof(thr->bounds.copy[0]));
    if (!w.last) {
        thr->leaf_verified = false;
        thr->bounds.copy[1] = thr->bounds.copy[0];
    } else {
        memcpy(&thr->bounds.copy[1], w.last, sizeof(thr->bounds.copy[1]));
    }
    thr->bounds.known = true;
    return true;
}

/*
 * A pointer on the way to the innermost frame. The pointer to the frame
 * itself is copied once, at the centre of the read (WATCH_CENTRE): it
 * names the innermost frame at the moment every frame is checked at
 * (snapshot.h). 3.11-3.12 read it from a struct named by the thread state
 * (WATCH_ANCHORS): that pointer is copied twice, around the centre, and if
 * its copies differ the thread moved while it was read. Fetched on demand,
 * off the centre, the thread is unverified.
 */
static bool read_frame_pointer(struct snapshot *s, uint64_t addr, enum watch_kind kind,
                               struct py_thread *thr, uint64_t *value)
{
    struct snapshot_watch w = snapshot_get_watched(s, addr, sizeof(*value), kind);
    if (!w.main)
        return false;
    thr->leaf_pointer = addr;
    memcpy(value, w.main, sizeof(*value));
    if (!w.last)
        thr->leaf_verified = false;
    else if (memcmp(w.main, w.last, sizeof(*value)) != 0)
        thr->leaf_moved = true;
    return true;
}

/* The innermost frame of a thread state (0 if none), and its stack bounds. */
static bool thread_leaf_frame(const struct py_layout *l, struct snapshot *s, uint64_t tstate,
                              struct py_thread *thr)
{
    thr->leaf_moved = false;
    thr->leaf_verified = true;
    thr->at_rest = false;
    thr->read_no = s->reads;
    if (!read_frame_pointer(s, tstate + l->tstate.frame,
                            l->frame_via_cframe ? WATCH_ANCHORS : WATCH_CENTRE, thr,
                            &thr->leaf_frame))
        return false;
    if (l->frame_via_cframe && thr->leaf_frame) {
        /* 3.11–3.12: tstate->cframe->current_frame. */
        if (!read_frame_pointer(s, thr->leaf_frame + l->cframe.current_frame, WATCH_CENTRE, thr,
                                &thr->leaf_frame))
            return false;
    }
    return !thr->leaf_frame || thread_stack_bounds(l, s, tstate, thr);
}

/*
 * Interpreter fields (the thread list head, the next interpreter, the code
 * generation) are read late: the generation must be, and keeping the others
 * with it lets one iovec cover them all.
 */
static bool interp_field(struct snapshot *s, uint64_t interp, uint32_t offset, uint64_t *out)
{
    const uint8_t *p = snapshot_get_late(s, interp + offset, sizeof(*out));
    if (!p)
        return false;
    memcpy(out, p, sizeof(*out));
    return true;
}

/*
 * _PyRuntime is a global of the file that holds it: it cannot be read only
 * while that file is not mapped, which after attaching means the program
 * unloaded it (a loader still mapping it in makes it unreadable for a
 * moment, so the map decides). A cold path: /proc is read once.
 */
static bool runtime_unmapped(const struct py_target *t)
{
    struct process_maps maps;
    if (maps_read(t->pid, &maps) != 0)
        return false;
    bool mapped = maps_find(&maps, t->runtime_addr) != NULL;
    maps_free(&maps);
    return !mapped;
}

static enum threads_status read_failure(struct snapshot *s)
{
    return s->last_error == REMOTE_GONE || s->last_error == REMOTE_DENIED ? THREADS_GONE
                                                                           : THREADS_PARTIAL;
}

enum leaf_hold py_thread_leaf_held(struct snapshot *s, const struct py_thread *thr)
{
    uint64_t copies[2];
    /* As an anchor: copied before the centre and after MIDDLE. */
    struct snapshot_watch w = snapshot_get_watched(s, thr->leaf_pointer, sizeof(copies[0]),
                                                   WATCH_ANCHORS);
    if (!w.main || !w.last)
        return LEAF_UNCHECKED;
    memcpy(&copies[0], w.main, sizeof(copies[0]));
    memcpy(&copies[1], w.last, sizeof(copies[1]));
    return copies[0] == thr->leaf_frame && copies[1] == thr->leaf_frame ? LEAF_HELD : LEAF_MOVED;
}

bool py_thread_refresh(struct py_target *t, struct snapshot *s, struct py_thread *thr)
{
    const struct py_layout *l = &t->layout;
    const uint8_t *ts = snapshot_get(s, thr->tstate, l->tstate_read_size);
    if (!ts || field_u64(ts, l->tstate.interp) != thr->interp)
        return false;
    /* A thread listed while starting had no kernel id yet (0): the stack
     * read now is the thread's as it is now. */
    thr->tid = thread_tid(t, s, ts);
    return thread_leaf_frame(l, s, thr->tstate, thr);
}

/* Append the threads of one interpreter. */
static enum threads_status read_interp_threads(struct py_target *t, struct snapshot *s,
                                               uint64_t interp, struct py_thread *out,
                                               size_t max, size_t *count,
                                               py_thread_known_fn known, void *ctx)
{
    const struct py_layout *l = &t->layout;
    uint64_t tstate;
    if (!interp_field(s, interp, l->interp.threads_head, &tstate))
        return read_failure(s);
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    for (size_t n = 0; tstate; n++) {
        if (n >= PY_MAX_THREADS || *count >= max || cycle_check_step(&cycle, tstate))
            return THREADS_PARTIAL;
        const uint8_t *ts = snapshot_get(s, tstate, l->tstate_read_size);
        if (!ts)
            return read_failure(s);
        /* A thread state that does not point back at its interpreter was
         * freed or reused under us. */
        if (field_u64(ts, l->tstate.interp) != interp)
            return THREADS_PARTIAL;
        struct py_thread *thr = &out[*count];
        thr->tstate = tstate;
        thr->interp = interp;
        uint64_t tid = thread_tid(t, s, ts), leaf;
        if (known && known(ctx, tstate, tid, &leaf)) {
            *thr = (struct py_thread){ .tstate = tstate, .interp = interp, .tid = tid,
                                       .leaf_frame = leaf, .leaf_verified = true,
                                       .at_rest = true, .read_no = s->reads };
        } else {
            thr->tid = tid;
            if (!thread_leaf_frame(l, s, tstate, thr))
                return read_failure(s);
        }
        (*count)++;
        tstate = field_u64(ts, l->tstate.next);
    }
    return THREADS_OK;
}

/*
 * Read `width` bytes at `addr` (an integer counter or pointer, zero-extended):
 * from the snapshot's latest copy, or straight from the target when s is
 * NULL.
 */
static bool read_late_value(struct py_target *t, struct snapshot *s, uint64_t addr,
                            uint32_t width, uint64_t *value)
{
    *value = 0;
    if (!s)
        return remote_read(&t->remote, addr, value, width) == REMOTE_OK;
    const uint8_t *p = snapshot_get_late(s, addr, width);
    if (p)
        memcpy(value, p, width);
    return p != NULL;
}

/* Add a counter of `width` bytes at `addr` to the generation. */
static void add_generation(struct py_target *t, struct snapshot *s, uint64_t addr,
                           uint32_t width, struct code_generation *gen)
{
    uint64_t v;
    /* A creation counter at 0 has run out (CPython stops counting): it no
     * longer moves, so it proves nothing. */
    if (!read_late_value(t, s, addr, width, &v) || v == 0)
        gen->valid = false;
    gen->value += v;
}

/* The generation from the snapshot's latest copy, or (s NULL) as it is now. */
static bool read_generation(struct py_target *t, struct snapshot *s, struct code_generation *gen)
{
    const struct py_layout *l = &t->layout;
    gen->value = 0;
    gen->valid = l->interp.code_generation != OFFSET_NONE || t->code_generation_addr;
    if (t->code_generation_addr)
        add_generation(t, s, t->code_generation_addr, sizeof(uint32_t), gen);
    if (l->interp.code_generation == OFFSET_NONE)
        return gen->valid;
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    uint64_t interp = t->interp_head;
    for (size_t n = 0; interp && gen->valid; n++) {
        if (n >= PY_MAX_INTERPRETERS || cycle_check_step(&cycle, interp))
            return gen->valid = false;
        add_generation(t, s, interp + l->interp.code_generation, l->interp.code_generation_width,
                       gen);
        if (!read_late_value(t, s, interp + l->interp.next, sizeof(interp), &interp))
            return gen->valid = false;
    }
    return gen->valid;
}

bool py_code_generation_now(struct py_target *t, struct code_generation *gen)
{
    return read_generation(t, NULL, gen);
}

bool py_code_generation_latest(struct py_target *t, struct snapshot *s,
                               struct code_generation *gen)
{
    return read_generation(t, s, gen);
}

enum threads_status py_threads_read(struct py_target *t, struct snapshot *s,
                                    struct py_thread *out, size_t max, size_t *count,
                                    struct code_generation *gen, size_t *interpreters,
                                    py_thread_known_fn known, void *ctx)
{
    const struct py_layout *l = &t->layout;
    *count = 0;
    *interpreters = 0;
    *gen = (struct code_generation){ 0, false };
    /* The list of interpreters changes only when a sub-interpreter comes or
     * goes: re-read its head now and then, not with every sample, and
     * straight from the target: through the snapshot it would keep a page in
     * the read plan of the samples after. Until the interpreter is up, every
     * time. */
    uint64_t now = clock_now_ns();
    if (!t->interp_head || now - t->interp_head_read_ns >= INTERP_LIST_REFRESH_NS) {
        enum remote_status rs = remote_read_u64(
            &t->remote, t->runtime_addr + l->runtime.interpreters_head, &t->interp_head);
        if (rs == REMOTE_GONE || rs == REMOTE_DENIED)
            return THREADS_GONE;
        if (rs == REMOTE_FAULT && runtime_unmapped(t))
            return THREADS_NO_RUNTIME;
        if (rs != REMOTE_OK)
            return THREADS_PARTIAL;
        t->interp_head_read_ns = now;
    }
    /* Late values: where in this walk they are asked for does not matter. */
    read_generation(t, s, gen);
    uint64_t interp = t->interp_head;
    enum threads_status status = THREADS_OK;
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    for (size_t n = 0; interp; n++) {
        if (n >= PY_MAX_INTERPRETERS || cycle_check_step(&cycle, interp))
            return THREADS_PARTIAL;
        enum threads_status st = read_interp_threads(t, s, interp, out, max, count, known, ctx);
        (*interpreters)++;
        if (st == THREADS_GONE)
            return st;
        if (st != THREADS_OK) {
            status = st;
            t->interp_head = 0;     /* re-read the list next time */
        }
        if (!interp_field(s, interp, l->interp.next, &interp))
            return read_failure(s);
    }
    return status;
}
