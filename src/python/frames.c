/*
 * frames.c — the frame walker; see frames.h.
 */
#include "python/frames.h"

#include "base/cycle.h"

#include <string.h>

#define FRAME_ALIGN 8
/* _PyStackRef tag bits (3.14+); objects are at least 8-byte aligned. */
#define STACKREF_TAG_MASK ((uint64_t)7)
/* Internal frames between two Python frames are few; bound the walk so a
 * corrupt chain of "internal" frames cannot run forever. */
#define MAX_INTERNAL_FRAMES_PER_FRAME 4

const char *walk_status_name(enum walk_status st)
{
    switch (st) {
    case WALK_OK: return "ok";
    case WALK_TRUNCATED: return "stack deeper than the limit";
    case WALK_UNREADABLE: return "frame or code object unreadable";
    case WALK_BAD_FRAME: return "frame changed while being read";
    case WALK_CYCLE: return "frame chain loops";
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

enum walk_status py_walk_frames(const struct py_target *t, struct snapshot *s, uint64_t leaf,
                                struct raw_frame *out, size_t max, size_t *depth)
{
    /* The layout facts used per frame, in locals: this loop runs for every
     * frame of every thread of every sample. */
    const struct py_layout *l = &t->layout;
    const uint32_t read_size = l->frame_read_size, back_at = l->frame.back;
    const uint32_t code_at = l->frame.code, owner_at = l->frame.owner;
    const uint32_t internal_owner = l->internal_owner_min;
    const uint64_t code_mask = l->executable_is_stackref ? ~STACKREF_TAG_MASK : ~(uint64_t)0;
    struct cycle_check cycle;
    cycle_check_init(&cycle);
    size_t n = 0, steps = 0;
    size_t max_steps = max * MAX_INTERNAL_FRAMES_PER_FRAME + MAX_INTERNAL_FRAMES_PER_FRAME;
    *depth = 0;
    for (uint64_t addr = leaf; addr; steps++) {
        if (addr % FRAME_ALIGN)
            return WALK_BAD_FRAME;
        if (cycle_check_step(&cycle, addr))
            return WALK_CYCLE;
        if (steps >= max_steps) {
            *depth = n;
            return WALK_TRUNCATED;
        }
        const uint8_t *frame = snapshot_get(s, addr, read_size);
        if (!frame)
            return unreadable(s);
        uint64_t back = field_u64(frame, back_at);
        if (owner_at != OFFSET_NONE && frame[owner_at] >= internal_owner) {
            addr = back;    /* entry/shim frame: no Python function here */
            continue;
        }
        uint64_t code = field_u64(frame, code_at) & code_mask;
        if (!code) {
            /* Being pushed or torn down right now: not a function yet (or
             * any more). Its caller is still a true stack. */
            addr = back;
            continue;
        }
        if (code % FRAME_ALIGN)
            return WALK_BAD_FRAME;
        if (n == max) {
            *depth = n;
            return WALK_TRUNCATED;
        }
        out[n].code = code;
        out[n].offset = frame_offset(l, frame, code);
        n++;
        addr = back;
    }
    *depth = n;
    return WALK_OK;
}
