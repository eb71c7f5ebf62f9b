/*
 * layout.h — where the fields strobe reads live in one CPython version.
 *
 * struct py_layout is the whole of strobe's knowledge of an interpreter's
 * memory layout: byte offsets of the handful of fields it reads, plus the few
 * behavioural switches that differ between versions (how frames are chained,
 * which line-table format code objects carry, ...). Nothing else in strobe
 * knows a CPython version number.
 *
 * 3.8–3.12 layouts are tables kept as data (layouts_legacy.c), each checked
 * against offsetof() from that version's own headers by a unit test.
 * 3.13+ layouts are built at attach time from the _Py_DebugOffsets table the
 * interpreter publishes about itself (debug_offsets.c).
 */
#ifndef STROBE_PYTHON_LAYOUT_H
#define STROBE_PYTHON_LAYOUT_H

#include "base/common.h"
#include "python/version.h"

/* A field this version does not have. */
#define OFFSET_NONE UINT32_MAX

/* struct _gil_runtime_state, the same in every version: who took the GIL
 * last, and how many times it has passed to another thread. */
#define GIL_LAST_HOLDER_OFFSET 8
#define GIL_LOCKED_OFFSET 16
#define GIL_SWITCH_NUMBER_OFFSET 24

enum py_frame_model {
    /* 3.8–3.10: heap PyFrameObjects linked by f_back; f_lasti is an index. */
    FRAME_MODEL_OBJECT,
    /* 3.11+: _PyInterpreterFrame records in per-thread data stacks, linked by
     * `previous`; the position is an instruction pointer into the code. */
    FRAME_MODEL_INTERPRETER,
};

enum py_linetable_format {
    LINETABLE_LNOTAB,       /* 3.8–3.9 co_lnotab: (byte delta, line delta) pairs */
    LINETABLE_PEP626,       /* 3.10 co_linetable: (byte delta, line delta) pairs */
    LINETABLE_LOCATIONS,    /* 3.11+ co_linetable: PEP 657 location entries */
};

/* Opcodes that return, in any one version. */
#define LAYOUT_MAX_RETURN_OPCODES 4

struct py_layout {
    struct py_version version;
    enum py_frame_model frame_model;
    enum py_linetable_format linetable_format;
    /* 3.11–3.12 reach the current frame through tstate->cframe. */
    bool frame_via_cframe;
    /* 3.14+ store f_executable as a tagged _PyStackRef. */
    bool executable_is_stackref;
    /* 3.13+: a thread entering another interpreter runs there on a thread
     * state of its own, with its own kernel id. Before, run_string swapped
     * to the interpreter's first thread state, whose kernel id is that of
     * whichever thread made the interpreter. */
    bool enters_with_own_tstate;
    /* Frames whose owner is >= this value are interpreter-internal entry or
     * shim frames that have no Python function (OFFSET_NONE: no such frames). */
    uint32_t internal_owner_min;
    /* Bytes of bytecode per unit of f_lasti (1 in 3.8–3.9, 2 in 3.10). */
    uint32_t lasti_unit;
    /* 3.11–3.12: a frame on the data stack spans co_nlocalsplus +
     * co_stacksize + this many words, so the innermost one ends exactly at
     * datastack_top. These versions publish the current frame through a
     * _PyCFrame on the C stack whose current_frame is briefly uninitialised
     * when an evaluation loop starts; this is how strobe tells such a value
     * from the real innermost frame. OFFSET_NONE: not checked (3.13+ set
     * tstate->current_frame directly). */
    uint32_t frame_specials_words;

    struct {
        uint32_t interpreters_head;
        uint32_t main_thread;       /* pthread_t of the main thread (<= 3.12) */
    } runtime;
    struct {
        uint32_t next;
        uint32_t threads_head;
        /* A counter that changes whenever a code object is destroyed (3.14+
         * _code_object_generation) or created (3.13 func_state.next_version):
         * while it stands still, no code object address can have been
         * reused. OFFSET_NONE where there is none (see also
         * py_target.code_generation_addr for 3.12's global counter). */
        uint32_t code_generation;
        uint32_t code_generation_width;     /* 4 or 8 bytes */
    } interp;
    /* Where the GIL's state is: in _PyRuntime (3.8–3.11), or in the
     * interpreter, its own (3.12+; a subinterpreter may share the main
     * one's instead). OFFSET_NONE where it is not known. */
    struct {
        uint32_t in_runtime;
        uint32_t in_interp;
    } gil;
    struct {
        uint32_t prev;
        uint32_t next;
        uint32_t interp;
        uint32_t frame;             /* frame, cframe or current_frame */
        uint32_t thread_id;         /* pthread_t */
        uint32_t native_thread_id;  /* OFFSET_NONE before 3.11 */
        /* The free part of the current data-stack chunk (3.11+), where no
         * live frame lies: [datastack_top, datastack_limit). */
        uint32_t datastack_top;
        uint32_t datastack_limit;
    } tstate;
    struct {
        uint32_t current_frame;     /* within _PyCFrame (3.11–3.12) */
    } cframe;
    struct {
        uint32_t back;              /* f_back or previous */
        uint32_t code;              /* f_code or f_executable */
        uint32_t position;          /* f_lasti (int) or prev_instr/instr_ptr */
        uint32_t owner;             /* OFFSET_NONE for frame objects */
        uint32_t state;             /* f_executing or f_state, a byte (3.8–3.10) */
        /* How much of localsplus a frame holds (3.11+: see
         * stack_depth_is_pointer): co_nlocalsplus or more in a live frame,
         * or -1 (3.12–3.13) while it runs. 3.13+ set it to 0 as they pop a
         * frame, which no live frame of a function with locals shows;
         * 3.11–3.12 leave it as it was. OFFSET_NONE for frame objects. */
        uint32_t stack_depth;
        uint32_t localsplus;        /* its first word (3.11+) */
        /* 3.11: bool, the frame was called from C (later versions put an
         * entry frame between); OFFSET_NONE otherwise. */
        uint32_t is_entry;
    } frame;
    /* 3.11–3.12: a frame that called another straight from the evaluation
     * loop (not through C) is past its first instruction, which is RESUME or
     * a prologue that calls nothing. (3.13+ push a shim frame that calls
     * __init__ from its first instruction.) */
    bool inline_callers_started;
    /* 3.11–3.12: the opcodes that return (RETURN_VALUE, RETURN_CONST and
     * their instrumented forms). These versions leave a popped frame as it
     * was, its position at the return; a frame there cannot have called
     * another straight from its evaluation loop. */
    uint8_t return_opcodes[LAYOUT_MAX_RETURN_OPCODES];
    uint8_t nreturn_opcodes;
    /* 3.14+: frame.stack_depth is _PyStackRef *stackpointer, an address in
     * localsplus; 3.11–3.13: int stacktop, an index into it. */
    bool stack_depth_is_pointer;
    /* The values of frame.state (bit n: value n) of a frame that is running
     * or calling: 1 in 3.8–3.9, FRAME_EXECUTING and FRAME_UNWINDING in 3.10.
     * A finished frame object can outlive its call and still be linked. */
    uint32_t frame_live_states;
    struct {
        uint32_t ob_size;           /* code units (3.11+ code is a var-object) */
        /* co_code, the bytes object of the bytecode (3.8–3.10): its length
         * is the code's size there. */
        uint32_t bytecode;
        uint32_t firstlineno;
        /* int co_flags (3.12+; OFFSET_NONE before): its
         * CO_NO_MONITORING_EVENTS marks the interpreter's own shim code. */
        uint32_t flags;
        uint32_t filename;
        uint32_t name;
        uint32_t qualname;          /* OFFSET_NONE before 3.11 */
        uint32_t linetable;         /* co_lnotab or co_linetable */
        uint32_t code_adaptive;     /* first instruction (3.11+) */
        uint32_t stacksize;         /* int co_stacksize (see frame_specials_words) */
        uint32_t nlocalsplus;       /* int co_nlocalsplus */
        /* The tuple of local names (3.13+): its length is co_nlocalsplus,
         * not otherwise in the debug offsets. */
        uint32_t localsplusnames;
    } code;
    struct {
        uint32_t ob_size;
        uint32_t ob_sval;
    } bytes;
    struct {
        uint32_t length;
        uint32_t hash;              /* cached str hash; -1 until computed */
        uint32_t state;
        uint32_t ascii_data;        /* sizeof(PyASCIIObject) */
        uint32_t compact_data;      /* sizeof(PyCompactUnicodeObject) */
    } unicode;
    uint32_t ob_type;
    /* Every object's reference count, a word (GIL builds; 3.14+ keep flags in
     * its upper half). A frame object's is 0 once it is freed; see code.c
     * for what a freed code object's shows. */
    uint32_t ob_refcnt;

    /* Bytes to read to cover every field above, per object. Derived by
     * layout_finish() from the offsets. */
    uint32_t tstate_read_size;
    uint32_t frame_read_size;
    uint32_t code_read_size;
};

/* The built-in table for a 3.8–3.12 version, or NULL. */
const struct py_layout *layout_legacy_for(unsigned minor);

/* Fill the *_read_size fields from the offsets. */
void layout_finish(struct py_layout *l);

#endif
