/*
 * frames.c — the frame walker; see frames.h.
 */
#include "python/frames.h"

#include "base/cycle.h"

#include <string.h>

#define FRAME_ALIGN 8
/* _PyStackRef tag bits (3.14+); objects are at least 8-byte aligned. */
#define STACKREF_TAG_MASK ((uint64_t)7)
#define CODE_UNIT_BYTES 2
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

/* Byte offset of the current instruction of a frame, or a failure. */
static enum walk_status frame_offset(const struct py_layout *l, const uint8_t *frame,
                                     uint64_t code, const uint8_t *header, int64_t *offset)
{
    if (l->frame_model == FRAME_MODEL_OBJECT) {
        int32_t lasti;
        memcpy(&lasti, frame + l->frame.position, sizeof(lasti));
        *offset = lasti < 0 ? -1 : (int64_t)lasti * l->lasti_unit;
        return WALK_OK;
    }
    uint64_t ip = field_u64(frame, l->frame.position);
    uint64_t first = code + l->code.code_adaptive;
    int64_t units = (int64_t)field_u64(header, l->code.ob_size);
    if (ip < first) {
        *offset = -1;   /* not started yet */
        return WALK_OK;
    }
    if (units < 0 || ip - first > (uint64_t)units * CODE_UNIT_BYTES)
        return WALK_BAD_FRAME;  /* pointer outside this code: torn frame */
    *offset = (int64_t)(ip - first);
    return WALK_OK;
}

enum walk_status py_walk_frames(const struct py_target *t, struct snapshot *s, uint64_t leaf,
                                struct raw_frame *out, size_t max, size_t *depth)
{
    const struct py_layout *l = &t->layout;
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
        const uint8_t *frame = snapshot_get(s, addr, l->frame_read_size);
        if (!frame)
            return unreadable(s);
        uint64_t back = field_u64(frame, l->frame.back);
        if (l->frame.owner != OFFSET_NONE && frame[l->frame.owner] >= l->internal_owner_min) {
            addr = back;    /* entry/shim frame: no Python function here */
            continue;
        }
        uint64_t code = field_u64(frame, l->frame.code);
        if (l->executable_is_stackref)
            code &= ~STACKREF_TAG_MASK;
        if (!code) {
            /* Being pushed or torn down right now: not a function yet (or
             * any more). Its caller is still a true stack. */
            addr = back;
            continue;
        }
        if (code % FRAME_ALIGN)
            return WALK_BAD_FRAME;
        const uint8_t *header = snapshot_get(s, code, l->code_read_size);
        if (!header)
            return unreadable(s);
        if (n == max) {
            *depth = n;
            return WALK_TRUNCATED;
        }
        struct raw_frame *rf = &out[n];
        enum walk_status st = frame_offset(l, frame, code, header, &rf->offset);
        if (st != WALK_OK)
            return st;
        rf->code = code;
        rf->code_header = header;
        n++;
        addr = back;
    }
    *depth = n;
    return WALK_OK;
}
