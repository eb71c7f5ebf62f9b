/*
 * layout.c — derived facts about a layout; see layout.h.
 */
#include "python/layout.h"

/* End of a field of `size` bytes at `offset`, or 0 if the field is absent. */
static uint32_t field_end(uint32_t offset, uint32_t size)
{
    return offset == OFFSET_NONE ? 0 : offset + size;
}

void layout_finish(struct py_layout *l)
{
    const uint32_t ptr = 8;
    l->tstate_read_size = MAX(MAX(field_end(l->tstate.prev, ptr), field_end(l->tstate.next, ptr)),
                              MAX(field_end(l->tstate.interp, ptr), field_end(l->tstate.frame, ptr)));
    l->tstate_read_size = MAX(l->tstate_read_size, field_end(l->tstate.thread_id, ptr));
    l->tstate_read_size = MAX(l->tstate_read_size, field_end(l->tstate.native_thread_id, ptr));

    /* f_lasti is a C int; the 3.11+ position is a pointer; owner is a char. */
    uint32_t position_size = l->frame_model == FRAME_MODEL_OBJECT ? 4 : ptr;
    l->frame_read_size = MAX(MAX(field_end(l->frame.back, ptr), field_end(l->frame.code, ptr)),
                             MAX(field_end(l->frame.position, position_size),
                                 field_end(l->frame.owner, 1)));
    if (l->frame_model == FRAME_MODEL_OBJECT)
        l->frame_read_size = MAX(l->frame_read_size, field_end(l->ob_refcnt, ptr));
    l->frame_read_size = MAX(l->frame_read_size, field_end(l->frame.state, 1));
    l->frame_read_size = MAX(l->frame_read_size, field_end(l->frame.stack_depth, ptr));
    l->frame_read_size = MAX(l->frame_read_size, field_end(l->frame.is_entry, 1));

    l->code_read_size = MAX(field_end(l->ob_type, ptr), field_end(l->code.ob_size, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->ob_refcnt, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.firstlineno, 4));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.flags, 4));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.filename, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.name, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.qualname, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.linetable, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.stacksize, 4));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.nlocalsplus, 4));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.localsplusnames, ptr));
    l->code_read_size = MAX(l->code_read_size, field_end(l->code.bytecode, ptr));
}
