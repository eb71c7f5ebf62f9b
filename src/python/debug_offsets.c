/*
 * debug_offsets.c — word positions of _Py_DebugOffsets fields per version,
 * and the translation into struct py_layout; see debug_offsets.h.
 *
 * Word 0 is the cookie, word 1 the version, word 2 free_threaded. Positions
 * were read from CPython's pycore_debug_offsets.h (pycore_runtime.h in 3.13)
 * and checked against the tables in real 3.13.0, 3.14.10 and 3.15.2
 * binaries (release and debug).
 */
#include "python/debug_offsets.h"

#include <stdio.h>
#include <string.h>

#define WORD_VERSION 1
#define WORD_FREE_THREADED 2
#define ABSENT 0

/* Sanity bounds for the sizes the table reports about itself. */
#define MAX_STRUCT_SIZE ((uint64_t)16 * 1024 * 1024)
#define MAX_SMALL_STRUCT_SIZE 4096u

/* Offsets in the object header that are not in the table but are the same
 * in every GIL build: PyVarObject.ob_size. */
#define VAR_OBJECT_OB_SIZE 16
/* sizeof(PyCompactUnicodeObject) since 3.12, for tables that omit it. */
#define COMPACT_UNICODE_SIZE_312 56

struct debug_offsets_format {
    unsigned minor;
    uint16_t total_words;
    uint16_t runtime_size, interpreters_head;
    uint16_t interp_size, interp_next, interp_threads_head, interp_code_generation;
    uint16_t interp_gil, interp_gil_locked, interp_gil_holder;
    uint16_t tstate_size, tstate_prev, tstate_next, tstate_interp, tstate_current_frame,
        tstate_thread_id, tstate_native_thread_id, tstate_datastack_chunk;
    uint16_t frame_size, frame_previous, frame_executable, frame_instr_ptr, frame_owner,
        frame_localsplus, frame_stackpointer;
    uint16_t code_size, code_filename, code_name, code_qualname, code_linetable,
        code_firstlineno, code_argcount, code_localsplusnames, code_adaptive;
    uint16_t ob_type;
    uint16_t bytes_size, bytes_ob_size, bytes_ob_sval;
    uint16_t unicode_size, unicode_state, unicode_length, unicode_ascii_size,
        unicode_compact_size;
    /* 3.13 has no generation counter in the table, but its interpreter has
     * func_state.next_version, bumped for every code object created. Its
     * offset (from 3.13's pycore_interp.h, checked by test_layouts) is only
     * trusted when the interpreter struct has the size it had there. */
    uint32_t fixed_code_generation, fixed_code_generation_interp_size;
};

static const struct debug_offsets_format formats[] = {
    {
        .minor = 13, .total_words = 73,
        .runtime_size = 3, .interpreters_head = 5,
        .interp_size = 6, .interp_next = 8, .interp_threads_head = 9,
        .interp_code_generation = ABSENT,
        .interp_gil = 15, .interp_gil_locked = 17, .interp_gil_holder = 18,
        .tstate_size = 19, .tstate_prev = 20, .tstate_next = 21, .tstate_interp = 22,
        .tstate_current_frame = 23, .tstate_thread_id = 24, .tstate_native_thread_id = 25,
        .tstate_datastack_chunk = 26,
        .frame_size = 28, .frame_previous = 29, .frame_executable = 30, .frame_instr_ptr = 31,
        .frame_localsplus = 32, .frame_owner = 33, .frame_stackpointer = ABSENT,
        .code_size = 34, .code_filename = 35, .code_name = 36, .code_qualname = 37,
        .code_linetable = 38, .code_firstlineno = 39, .code_argcount = 40,
        .code_localsplusnames = 41,
        .code_adaptive = 43,
        .ob_type = 45,
        .bytes_size = 64, .bytes_ob_size = 65, .bytes_ob_sval = 66,
        .unicode_size = 67, .unicode_state = 68, .unicode_length = 69,
        .unicode_ascii_size = 70, .unicode_compact_size = ABSENT,
        .fixed_code_generation = 17000, .fixed_code_generation_interp_size = 194968,
    },
    {
        /* 3.14: interpreter gains threads_main and the generation counters;
         * frames gain stackpointer and tlbc_index; set and generator
         * sections appear. */
        .minor = 14, .total_words = 95,
        .runtime_size = 3, .interpreters_head = 5,
        .interp_size = 6, .interp_next = 8, .interp_threads_head = 9,
        .interp_code_generation = 20,
        .interp_gil = 16, .interp_gil_locked = 18, .interp_gil_holder = 19,
        .tstate_size = 22, .tstate_prev = 23, .tstate_next = 24, .tstate_interp = 25,
        .tstate_current_frame = 26, .tstate_thread_id = 27, .tstate_native_thread_id = 28,
        .tstate_datastack_chunk = 29,
        .frame_size = 31, .frame_previous = 32, .frame_executable = 33, .frame_instr_ptr = 34,
        .frame_localsplus = 35, .frame_owner = 36, .frame_stackpointer = 37,
        .code_size = 39, .code_filename = 40, .code_name = 41, .code_qualname = 42,
        .code_linetable = 43, .code_firstlineno = 44, .code_argcount = 45,
        .code_localsplusnames = 46,
        .code_adaptive = 48,
        .ob_type = 51,
        .bytes_size = 74, .bytes_ob_size = 75, .bytes_ob_sval = 76,
        .unicode_size = 77, .unicode_state = 78, .unicode_length = 79,
        .unicode_ascii_size = 80, .unicode_compact_size = ABSENT,
    },
    {
        /* 3.15 (from 3.15.0b4): thread state gains base_frame, the profiler
         * anchor fields and GIL/exception state; an err_stackitem section,
         * wider type and unicode sections. */
        .minor = 15, .total_words = 111,
        .runtime_size = 3, .interpreters_head = 5,
        .interp_size = 6, .interp_next = 8, .interp_threads_head = 9,
        .interp_code_generation = 20,
        .interp_gil = 16, .interp_gil_locked = 18, .interp_gil_holder = 19,
        .tstate_size = 22, .tstate_prev = 23, .tstate_next = 24, .tstate_interp = 25,
        .tstate_current_frame = 26, .tstate_thread_id = 30, .tstate_native_thread_id = 31,
        .tstate_datastack_chunk = 32,
        .frame_size = 39, .frame_previous = 40, .frame_executable = 41, .frame_instr_ptr = 42,
        .frame_localsplus = 43, .frame_owner = 44, .frame_stackpointer = 45,
        .code_size = 47, .code_filename = 48, .code_name = 49, .code_qualname = 50,
        .code_linetable = 51, .code_firstlineno = 52, .code_argcount = 53,
        .code_localsplusnames = 54,
        .code_adaptive = 56,
        .ob_type = 59,
        .bytes_size = 86, .bytes_ob_size = 87, .bytes_ob_sval = 88,
        .unicode_size = 89, .unicode_state = 90, .unicode_length = 91,
        .unicode_ascii_size = 92, .unicode_compact_size = 93,
    },
};

static const struct debug_offsets_format *format_for(unsigned minor)
{
    for (size_t i = 0; i < ARRAY_LEN(formats); i++)
        if (formats[i].minor == minor)
            return &formats[i];
    return NULL;
}

bool debug_offsets_present(const void *table, size_t len)
{
    return len >= DEBUG_OFFSETS_COOKIE_LEN &&
           memcmp(table, DEBUG_OFFSETS_COOKIE, DEBUG_OFFSETS_COOKIE_LEN) == 0;
}

static uint64_t word(const void *table, uint16_t index)
{
    uint64_t w;
    memcpy(&w, (const char *)table + (size_t)index * 8, 8);
    return w;
}

uint64_t debug_offsets_version(const void *table)
{
    return word(table, WORD_VERSION);
}

size_t debug_offsets_size(struct py_version v)
{
    const struct debug_offsets_format *f = v.major == 3 ? format_for(v.minor) : NULL;
    return f ? (size_t)f->total_words * 8 : 0;
}

/* Check an offset against the size of its struct and narrow it to u32. */
static bool field(uint64_t offset, uint64_t struct_size, uint32_t *out)
{
    if (offset >= struct_size)
        return false;
    *out = (uint32_t)offset;
    return true;
}

/*
 * The table locates the interpreter's own GIL and two of its fields; the
 * switch count, which strobe also reads, is not in it. Trust the struct to
 * be the one every version has had (layout.h) only if the two fields are
 * where that struct has them.
 */
static void gil_in_interp(const void *table, const struct debug_offsets_format *f,
                          uint64_t interp_size, struct py_layout *l)
{
    uint64_t gil = word(table, f->interp_gil);
    l->gil.in_runtime = OFFSET_NONE;
    l->gil.in_interp = OFFSET_NONE;
    if (gil < interp_size && interp_size - gil >= GIL_SWITCH_NUMBER_OFFSET + sizeof(uint64_t) &&
        word(table, f->interp_gil_holder) == gil + GIL_LAST_HOLDER_OFFSET &&
        word(table, f->interp_gil_locked) == gil + GIL_LOCKED_OFFSET)
        l->gil.in_interp = (uint32_t)gil;
}

bool debug_offsets_to_layout(const void *table, size_t len, struct py_layout *out, char *err,
                             size_t errlen)
{
    struct py_version v = py_version_from_hex(debug_offsets_version(table));
    const struct debug_offsets_format *f = v.major == 3 ? format_for(v.minor) : NULL;
    char vs[32];
    py_version_format(v, vs, sizeof(vs));
    if (!f) {
        py_version_unsupported_message(v, err, errlen);
        return false;
    }
    if (len < (size_t)f->total_words * 8) {
        snprintf(err, errlen, "the CPython %s debug-offsets table is truncated", vs);
        return false;
    }
    if (word(table, WORD_FREE_THREADED) != 0) {
        snprintf(err, errlen, "CPython %s is a free-threaded build, which strobe does not support yet", vs);
        return false;
    }

    uint64_t interp_size = word(table, f->interp_size);
    uint64_t tstate_size = word(table, f->tstate_size);
    uint64_t frame_size = word(table, f->frame_size);
    uint64_t code_size = word(table, f->code_size);
    uint64_t bytes_size = word(table, f->bytes_size);
    uint64_t unicode_size = word(table, f->unicode_size);
    uint64_t runtime_size = word(table, f->runtime_size);

    struct py_layout l = {
        .version = v,
        .frame_model = FRAME_MODEL_INTERPRETER,
        .linetable_format = LINETABLE_LOCATIONS,
        .frame_via_cframe = false,
        .executable_is_stackref = v.minor >= 14,
        .enters_with_own_tstate = true,
        .internal_owner_min = 3,
        .runtime.main_thread = OFFSET_NONE,
        .cframe.current_frame = OFFSET_NONE,
        /* Not in the table: word 0 of every object in a GIL build (a
         * free-threaded one is refused above). */
        .ob_refcnt = 0,
        .frame.state = OFFSET_NONE,
        .frame.is_entry = OFFSET_NONE,
        .frame_specials_words = OFFSET_NONE,
        .code.stacksize = OFFSET_NONE,
        .code.nlocalsplus = OFFSET_NONE,
        .code.ob_size = VAR_OBJECT_OB_SIZE,
        .code.bytecode = OFFSET_NONE,
    };
    bool ok = runtime_size <= MAX_STRUCT_SIZE && interp_size <= MAX_STRUCT_SIZE &&
              tstate_size <= MAX_SMALL_STRUCT_SIZE && frame_size <= MAX_SMALL_STRUCT_SIZE &&
              code_size <= MAX_SMALL_STRUCT_SIZE && bytes_size <= MAX_SMALL_STRUCT_SIZE &&
              unicode_size <= MAX_SMALL_STRUCT_SIZE;
    ok = ok && field(word(table, f->interpreters_head), runtime_size, &l.runtime.interpreters_head);
    ok = ok && field(word(table, f->interp_next), interp_size, &l.interp.next);
    ok = ok && field(word(table, f->interp_threads_head), interp_size, &l.interp.threads_head);
    ok = ok && field(word(table, f->tstate_prev), tstate_size, &l.tstate.prev);
    ok = ok && field(word(table, f->tstate_next), tstate_size, &l.tstate.next);
    ok = ok && field(word(table, f->tstate_interp), tstate_size, &l.tstate.interp);
    ok = ok && field(word(table, f->tstate_current_frame), tstate_size, &l.tstate.frame);
    ok = ok && field(word(table, f->tstate_thread_id), tstate_size, &l.tstate.thread_id);
    ok = ok && field(word(table, f->tstate_native_thread_id), tstate_size, &l.tstate.native_thread_id);
    /* The table names datastack_chunk; PyThreadState declares datastack_top
     * and datastack_limit right after it in every version that has them. */
    uint32_t datastack_chunk = 0;
    ok = ok && field(word(table, f->tstate_datastack_chunk), tstate_size, &datastack_chunk);
    l.tstate.datastack_top = datastack_chunk + sizeof(uint64_t);
    l.tstate.datastack_limit = datastack_chunk + 2 * sizeof(uint64_t);
    ok = ok && l.tstate.datastack_limit + sizeof(uint64_t) <= tstate_size;
    ok = ok && field(word(table, f->frame_previous), frame_size, &l.frame.back);
    ok = ok && field(word(table, f->frame_executable), frame_size, &l.frame.code);
    ok = ok && field(word(table, f->frame_instr_ptr), frame_size, &l.frame.position);
    ok = ok && field(word(table, f->frame_owner), frame_size, &l.frame.owner);
    /* localsplus is the trailing array: it may equal the size. */
    ok = ok && field(word(table, f->frame_localsplus), frame_size + 1, &l.frame.localsplus);
    if (f->frame_stackpointer != ABSENT) {
        ok = ok && field(word(table, f->frame_stackpointer), frame_size, &l.frame.stack_depth);
        l.stack_depth_is_pointer = true;
    } else {
        /* 3.13 declares int stacktop right after instr_ptr (test_layouts). */
        l.frame.stack_depth = l.frame.position + sizeof(uint64_t);
    }
    ok = ok && l.frame.stack_depth + sizeof(uint64_t) <= l.frame.localsplus;
    ok = ok && field(word(table, f->code_filename), code_size, &l.code.filename);
    ok = ok && field(word(table, f->code_name), code_size, &l.code.name);
    ok = ok && field(word(table, f->code_qualname), code_size, &l.code.qualname);
    ok = ok && field(word(table, f->code_linetable), code_size, &l.code.linetable);
    ok = ok && field(word(table, f->code_firstlineno), code_size, &l.code.firstlineno);
    /* int co_flags, not in the table, comes right before co_argcount. */
    uint32_t argcount = 0;
    ok = ok && field(word(table, f->code_argcount), code_size, &argcount) &&
         argcount >= sizeof(int32_t);
    l.code.flags = argcount - (uint32_t)sizeof(int32_t);
    ok = ok && field(word(table, f->code_localsplusnames), code_size, &l.code.localsplusnames);
    /* co_code_adaptive is the trailing flexible array: it may equal the size. */
    ok = ok && field(word(table, f->code_adaptive), code_size + 1, &l.code.code_adaptive);
    ok = ok && field(word(table, f->ob_type), MAX_SMALL_STRUCT_SIZE, &l.ob_type);
    ok = ok && field(word(table, f->bytes_ob_size), bytes_size, &l.bytes.ob_size);
    ok = ok && field(word(table, f->bytes_ob_sval), bytes_size, &l.bytes.ob_sval);
    ok = ok && field(word(table, f->unicode_state), unicode_size, &l.unicode.state);
    ok = ok && field(word(table, f->unicode_length), unicode_size, &l.unicode.length);
    /* PyASCIIObject is {PyObject_HEAD, length, hash, state, ...}: the hash,
     * not in the table, follows the length. */
    l.unicode.hash = l.unicode.length + sizeof(int64_t);
    ok = ok && l.unicode.hash + sizeof(int64_t) <= l.unicode.state;
    ok = ok && field(word(table, f->unicode_ascii_size), unicode_size, &l.unicode.ascii_data);
    l.interp.code_generation = OFFSET_NONE;
    if (f->interp_code_generation != ABSENT) {
        ok = ok && field(word(table, f->interp_code_generation), interp_size,
                         &l.interp.code_generation);
        l.interp.code_generation_width = sizeof(uint64_t);
    } else if (f->fixed_code_generation && interp_size == f->fixed_code_generation_interp_size) {
        l.interp.code_generation = f->fixed_code_generation;
        l.interp.code_generation_width = sizeof(uint32_t);
    }
    gil_in_interp(table, f, interp_size, &l);
    if (f->unicode_compact_size != ABSENT)
        ok = ok && field(word(table, f->unicode_compact_size), unicode_size + 1, &l.unicode.compact_data);
    else
        l.unicode.compact_data = COMPACT_UNICODE_SIZE_312;
    if (!ok) {
        snprintf(err, errlen,
                 "the debug-offsets table of CPython %s does not have the expected layout "
                 "(a pre-release build?)", vs);
        return false;
    }
    layout_finish(&l);
    *out = l;
    return true;
}
