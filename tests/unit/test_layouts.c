/*
 * test_layouts.c — strobe's layout knowledge against a CPython version's own
 * internal headers. Compiled once per installed version (and once more with
 * Py_DEBUG) by run-layout-tests.sh, with that version's include directory.
 *
 *  - 3.8–3.12: every offset in the built-in table equals offsetof() of the
 *    real struct member.
 *  - 3.13+: the word positions strobe uses to read _Py_DebugOffsets match the
 *    real struct: a table filled with distinct values must come back as the
 *    same values in the layout.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#if PY_MINOR_VERSION <= 10
#include <frameobject.h>
#endif
#include "internal/pycore_pystate.h"
#if PY_MINOR_VERSION >= 9
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#endif
#if PY_MINOR_VERSION >= 11
#include "internal/pycore_frame.h"
#endif
#include "internal/pycore_gil.h"
#if PY_MINOR_VERSION >= 11 && PY_MINOR_VERSION <= 12
#include "opcode.h"
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "python/debug_offsets.h"
#include "python/layout.h"

#include <string.h>

#define CHECK(field, expected) \
    assert_int_equal((uint64_t)(field), (uint64_t)(expected))

/* The GIL fields strobe reads are where layout.h says, in every version. */
static void test_gil_struct(void **state)
{
    (void)state;
    CHECK(GIL_LAST_HOLDER_OFFSET, offsetof(struct _gil_runtime_state, last_holder));
    CHECK(GIL_LOCKED_OFFSET, offsetof(struct _gil_runtime_state, locked));
    CHECK(GIL_SWITCH_NUMBER_OFFSET, offsetof(struct _gil_runtime_state, switch_number));
}

#if PY_MINOR_VERSION <= 12
static void test_table_matches_headers(void **state)
{
    (void)state;
    const struct py_layout *l = layout_legacy_for(PY_MINOR_VERSION);
    assert_non_null(l);
#if PY_MINOR_VERSION <= 11
    CHECK(l->gil.in_runtime, offsetof(_PyRuntimeState, ceval.gil));
    CHECK(l->gil.in_interp, OFFSET_NONE);
#else
    CHECK(l->gil.in_runtime, OFFSET_NONE);
    CHECK(l->gil.in_interp, offsetof(PyInterpreterState, _gil));
#endif
    CHECK(l->runtime.interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
    CHECK(l->runtime.main_thread, offsetof(_PyRuntimeState, main_thread));
    CHECK(l->interp.next, offsetof(PyInterpreterState, next));
#if PY_MINOR_VERSION <= 10
    CHECK(l->interp.threads_head, offsetof(PyInterpreterState, tstate_head));
    CHECK(l->tstate.frame, offsetof(PyThreadState, frame));
    CHECK(l->tstate.native_thread_id, OFFSET_NONE);
    CHECK(l->tstate.datastack_top, OFFSET_NONE);
    CHECK(l->code.bytecode, offsetof(PyCodeObject, co_code));
#if PY_MINOR_VERSION <= 9
    CHECK(l->frame.state, offsetof(PyFrameObject, f_executing));
    CHECK(l->frame_live_states, 1u << 1);
#else
    CHECK(l->frame.state, offsetof(PyFrameObject, f_state));
    CHECK(l->frame_live_states, 1u << FRAME_EXECUTING | 1u << FRAME_UNWINDING);
#endif
    CHECK(l->frame.back, offsetof(PyFrameObject, f_back));
    CHECK(l->frame.code, offsetof(PyFrameObject, f_code));
    CHECK(l->frame.position, offsetof(PyFrameObject, f_lasti));
    CHECK(l->frame.stack_depth, OFFSET_NONE);
    CHECK(l->frame_model, FRAME_MODEL_OBJECT);
#else
    CHECK(l->interp.threads_head, offsetof(PyInterpreterState, threads.head));
    CHECK(l->tstate.frame, offsetof(PyThreadState, cframe));
    CHECK(l->cframe.current_frame, offsetof(_PyCFrame, current_frame));
    CHECK(l->tstate.native_thread_id, offsetof(PyThreadState, native_thread_id));
    CHECK(l->tstate.datastack_top, offsetof(PyThreadState, datastack_top));
    CHECK(l->tstate.datastack_limit, offsetof(PyThreadState, datastack_limit));
    CHECK(l->frame.state, OFFSET_NONE);
    CHECK(l->frame.back, offsetof(_PyInterpreterFrame, previous));
    CHECK(l->frame.code, offsetof(_PyInterpreterFrame, f_code));
    CHECK(l->frame.position, offsetof(_PyInterpreterFrame, prev_instr));
    CHECK(l->frame.owner, offsetof(_PyInterpreterFrame, owner));
    CHECK(l->frame.stack_depth, offsetof(_PyInterpreterFrame, stacktop));
    CHECK(l->stack_depth_is_pointer, false);
    CHECK(l->frame.localsplus, offsetof(_PyInterpreterFrame, localsplus));
    CHECK(l->inline_callers_started, true);
#if PY_MINOR_VERSION == 11
    CHECK(l->frame.is_entry, offsetof(_PyInterpreterFrame, is_entry));
    CHECK(l->nreturn_opcodes, 1);
    CHECK(l->return_opcodes[0], RETURN_VALUE);
#else
    CHECK(l->frame.is_entry, OFFSET_NONE);
    CHECK(l->nreturn_opcodes, 4);
    CHECK(l->return_opcodes[0], RETURN_VALUE);
    CHECK(l->return_opcodes[1], RETURN_CONST);
    CHECK(l->return_opcodes[2], INSTRUMENTED_RETURN_VALUE);
    CHECK(l->return_opcodes[3], INSTRUMENTED_RETURN_CONST);
#endif
    CHECK(l->code.qualname, offsetof(PyCodeObject, co_qualname));
    CHECK(l->code.bytecode, OFFSET_NONE);
    CHECK(l->code.code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
    CHECK(l->code.ob_size, offsetof(PyVarObject, ob_size));
    CHECK(l->code.stacksize, offsetof(PyCodeObject, co_stacksize));
    CHECK(l->code.nlocalsplus, offsetof(PyCodeObject, co_nlocalsplus));
    CHECK(l->frame_specials_words, FRAME_SPECIALS_SIZE);
    CHECK(l->frame_model, FRAME_MODEL_INTERPRETER);
#endif
#if PY_MINOR_VERSION >= 12
    CHECK(l->internal_owner_min, FRAME_OWNED_BY_CSTACK);
#endif
    CHECK(l->tstate.prev, offsetof(PyThreadState, prev));
    CHECK(l->tstate.next, offsetof(PyThreadState, next));
    CHECK(l->tstate.interp, offsetof(PyThreadState, interp));
    CHECK(l->tstate.thread_id, offsetof(PyThreadState, thread_id));
    CHECK(l->code.firstlineno, offsetof(PyCodeObject, co_firstlineno));
#if PY_MINOR_VERSION >= 12
    CHECK(l->code.flags, offsetof(PyCodeObject, co_flags));
#else
    CHECK(l->code.flags, OFFSET_NONE);
#endif
    CHECK(l->code.filename, offsetof(PyCodeObject, co_filename));
    CHECK(l->code.name, offsetof(PyCodeObject, co_name));
#if PY_MINOR_VERSION <= 9
    CHECK(l->code.linetable, offsetof(PyCodeObject, co_lnotab));
#else
    CHECK(l->code.linetable, offsetof(PyCodeObject, co_linetable));
#endif
    CHECK(l->bytes.ob_size, offsetof(PyBytesObject, ob_base.ob_size));
    CHECK(l->bytes.ob_sval, offsetof(PyBytesObject, ob_sval));
    CHECK(l->unicode.length, offsetof(PyASCIIObject, length));
    CHECK(l->unicode.state, offsetof(PyASCIIObject, state));
    CHECK(l->unicode.ascii_data, sizeof(PyASCIIObject));
    CHECK(l->unicode.compact_data, sizeof(PyCompactUnicodeObject));
    CHECK(l->ob_type, offsetof(PyObject, ob_type));
    CHECK(l->ob_refcnt, offsetof(PyObject, ob_refcnt));
}
#else
static void test_table_matches_headers(void **state)
{
    (void)state;
    /* Fill the real struct with distinct values where strobe reads. */
    _Py_DebugOffsets d;
    memset(&d, 0, sizeof(d));
    memcpy(d.cookie, DEBUG_OFFSETS_COOKIE, DEBUG_OFFSETS_COOKIE_LEN);
    d.version = PY_VERSION_HEX;
    d.runtime_state.size = 100000;
    d.runtime_state.interpreters_head = 101;
    d.interpreter_state.size = 100000;
    d.interpreter_state.next = 102;
    d.interpreter_state.threads_head = 103;
    d.thread_state.size = 4000;
    d.thread_state.prev = 104;
    d.thread_state.next = 105;
    d.thread_state.interp = 106;
    d.thread_state.current_frame = 107;
    d.thread_state.thread_id = 108;
    d.thread_state.native_thread_id = 109;
    d.thread_state.datastack_chunk = 125;
    d.interpreter_frame.size = 1000;
    d.interpreter_frame.previous = 110;
    d.interpreter_frame.executable = 111;
    d.interpreter_frame.instr_ptr = 112;
    d.interpreter_frame.owner = 113;
    d.interpreter_frame.localsplus = 200;
#if PY_MINOR_VERSION >= 14
    d.interpreter_frame.stackpointer = 126;
#endif
    d.code_object.size = 1000;
    d.code_object.filename = 114;
    d.code_object.name = 115;
    d.code_object.qualname = 116;
    d.code_object.linetable = 117;
    d.code_object.firstlineno = 118;
    d.code_object.co_code_adaptive = 119;
    d.code_object.localsplusnames = 127;
    d.code_object.argcount = 128;
    d.pyobject.ob_type = 8;
    d.bytes_object.size = 1000;
    d.bytes_object.ob_size = 120;
    d.bytes_object.ob_sval = 121;
    d.unicode_object.size = 1000;
    d.unicode_object.state = 140;   /* after length and the hash that follows it */
    d.unicode_object.length = 123;
    d.unicode_object.asciiobject_size = 124;
    d.interpreter_state.gil_runtime_state = 2000;
    d.interpreter_state.gil_runtime_state_holder = 2000 + offsetof(struct _gil_runtime_state, last_holder);
    d.interpreter_state.gil_runtime_state_locked = 2000 + offsetof(struct _gil_runtime_state, locked);

    struct py_layout l;
    char err[ERRMSG_MAX];
    assert_int_equal(debug_offsets_size(py_version_from_hex(PY_VERSION_HEX)), sizeof(d));
    if (!debug_offsets_to_layout(&d, sizeof(d), &l, err, sizeof(err)))
        fail_msg("%s", err);
    CHECK(l.runtime.interpreters_head, 101);
    CHECK(l.interp.next, 102);
    CHECK(l.interp.threads_head, 103);
    CHECK(l.tstate.prev, 104);
    CHECK(l.tstate.next, 105);
    CHECK(l.tstate.interp, 106);
    CHECK(l.tstate.frame, 107);
    CHECK(l.tstate.thread_id, 108);
    CHECK(l.tstate.native_thread_id, 109);
    CHECK(l.frame.back, 110);
    CHECK(l.frame.code, 111);
    CHECK(l.frame.position, 112);
    CHECK(l.frame.owner, 113);
    CHECK(l.frame.localsplus, 200);
#if PY_MINOR_VERSION >= 14
    CHECK(l.frame.stack_depth, 126);
    CHECK(l.stack_depth_is_pointer, true);
#else
    /* Not in 3.13's table: strobe derives it, as the headers have it. */
    CHECK(l.frame.stack_depth, 112 + 8);
    CHECK(l.stack_depth_is_pointer, false);
    CHECK(offsetof(_PyInterpreterFrame, stacktop), offsetof(_PyInterpreterFrame, instr_ptr) + 8);
#endif
    CHECK(l.code.localsplusnames, 127);
    /* Not in the table: strobe derives co_flags from co_argcount. */
    CHECK(l.code.flags, 128 - 4);
    CHECK(offsetof(PyCodeObject, co_flags) + sizeof(int), offsetof(PyCodeObject, co_argcount));
    CHECK(l.frame.is_entry, OFFSET_NONE);
    CHECK(l.inline_callers_started, false);
    CHECK(l.nreturn_opcodes, 0);
    CHECK(l.code.filename, 114);
    CHECK(l.code.name, 115);
    CHECK(l.code.qualname, 116);
    CHECK(l.code.linetable, 117);
    CHECK(l.code.firstlineno, 118);
    CHECK(l.code.code_adaptive, 119);
    CHECK(l.bytes.ob_size, 120);
    CHECK(l.bytes.ob_sval, 121);
    CHECK(l.unicode.state, 140);
    CHECK(l.unicode.hash, 123 + 8);
    CHECK(l.unicode.length, 123);
    CHECK(l.unicode.ascii_data, 124);
    CHECK(l.ob_type, 8);
    CHECK(l.ob_refcnt, 0);
    CHECK(l.tstate.datastack_top, 125 + 8);
    CHECK(l.tstate.datastack_limit, 125 + 16);
    /* What the table says about datastack_chunk, the headers confirm about
     * the two fields strobe derives from it. */
    CHECK(offsetof(PyThreadState, datastack_top), offsetof(PyThreadState, datastack_chunk) + 8);
    CHECK(offsetof(PyThreadState, datastack_limit), offsetof(PyThreadState, datastack_chunk) + 16);
    CHECK(l.gil.in_interp, 2000);
    CHECK(l.gil.in_runtime, OFFSET_NONE);
    /* A GIL struct not shaped as strobe knows it is not used. */
    d.interpreter_state.gil_runtime_state_holder += 8;
    if (!debug_offsets_to_layout(&d, sizeof(d), &l, err, sizeof(err)))
        fail_msg("%s", err);
    CHECK(l.gil.in_interp, OFFSET_NONE);
    d.interpreter_state.gil_runtime_state_holder -= 8;
#if PY_MINOR_VERSION == 13
    /* 3.13's generation counter is not in the table: strobe uses the offset
     * of func_state.next_version, only for an interpreter of this size. */
    d.interpreter_state.size = sizeof(PyInterpreterState);
    if (!debug_offsets_to_layout(&d, sizeof(d), &l, err, sizeof(err)))
        fail_msg("%s", err);
    CHECK(l.interp.code_generation, offsetof(PyInterpreterState, func_state.next_version));
    CHECK(l.interp.code_generation_width, sizeof(((PyInterpreterState *)0)->func_state.next_version));
#endif
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_headers),
        cmocka_unit_test(test_gil_struct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
