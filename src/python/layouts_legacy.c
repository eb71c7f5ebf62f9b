/*
 * layouts_legacy.c — struct layouts of CPython 3.8–3.12 (x86_64/aarch64 LP64,
 * release and debug builds alike: Py_DEBUG does not change these fields).
 *
 * These versions do not describe themselves, so the offsets are data here.
 * tests/unit/test_layouts.c compiles against each installed version's
 * internal headers and checks every number below with offsetof(); the
 * patch releases of one minor version share these layouts. The version field
 * is left to the caller, which knows the exact version it detected.
 */
#include "python/layout.h"

#include <stddef.h>

/* Fields common to every legacy version. */
#define BYTES_LAYOUT { .ob_size = 16, .ob_sval = 32 }
#define OB_TYPE 8
#define OB_REFCNT 0
/* PEP 393 string headers: with the wstr fields (<= 3.11) and without. */
#define UNICODE_WITH_WSTR { .length = 16, .hash = 24, .state = 32, .ascii_data = 48, .compact_data = 72 }
#define UNICODE_NO_WSTR { .length = 16, .hash = 24, .state = 32, .ascii_data = 40, .compact_data = 56 }

/* 3.8 and 3.9: only the GIL moved (3.9 took most of the runtime state into
 * the interpreter). */
#define LAYOUT_3_8_OR_3_9(gil_in_runtime) {                                                       \
    .frame_model = FRAME_MODEL_OBJECT,                                                           \
    .linetable_format = LINETABLE_LNOTAB,                                                        \
    .internal_owner_min = OFFSET_NONE,                                                           \
    .lasti_unit = 1,                                                                             \
    .frame_specials_words = OFFSET_NONE,                                                         \
    .runtime = { .interpreters_head = 32, .main_thread = 72 },                                   \
    .interp = { .next = 0, .threads_head = 8, .code_generation = OFFSET_NONE },                  \
    .gil = { .in_runtime = (gil_in_runtime), .in_interp = OFFSET_NONE },                         \
    .tstate = { .prev = 0, .next = 8, .interp = 16, .frame = 24, .thread_id = 176,               \
                .native_thread_id = OFFSET_NONE, .datastack_top = OFFSET_NONE,                   \
                .datastack_limit = OFFSET_NONE },                                                \
    .cframe = { .current_frame = OFFSET_NONE },                                                  \
    .frame = { .back = 24, .code = 32, .position = 104, .owner = OFFSET_NONE,                  \
               .state = 116, .stack_depth = OFFSET_NONE, .localsplus = OFFSET_NONE,            \
               .is_entry = OFFSET_NONE },                                                        \
    .frame_live_states = 1u << 1,     /* f_executing */                                          \
    .code = { .ob_size = OFFSET_NONE, .firstlineno = 40, .filename = 104, .name = 112,           \
              .qualname = OFFSET_NONE, .linetable = 120, .code_adaptive = OFFSET_NONE,           \
              .stacksize = OFFSET_NONE, .nlocalsplus = OFFSET_NONE, .flags = OFFSET_NONE,        \
              .localsplusnames = OFFSET_NONE, .bytecode = 48 },                                  \
    .bytes = BYTES_LAYOUT,                                                                       \
    .unicode = UNICODE_WITH_WSTR,                                                                \
    .ob_type = OB_TYPE,                                                                          \
    .ob_refcnt = OB_REFCNT,                                                                      \
}

static const struct py_layout layout_3_8 = LAYOUT_3_8_OR_3_9(1152);
static const struct py_layout layout_3_9 = LAYOUT_3_8_OR_3_9(352);

static const struct py_layout layout_3_10 = {
    .frame_model = FRAME_MODEL_OBJECT,
    .linetable_format = LINETABLE_PEP626,
    .internal_owner_min = OFFSET_NONE,
    .lasti_unit = 2,
    .frame_specials_words = OFFSET_NONE,
    .runtime = { .interpreters_head = 32, .main_thread = 72 },
    .interp = { .next = 0, .threads_head = 8, .code_generation = OFFSET_NONE },
    .gil = { .in_runtime = 352, .in_interp = OFFSET_NONE },
    .tstate = { .prev = 0, .next = 8, .interp = 16, .frame = 24, .thread_id = 176,
                .native_thread_id = OFFSET_NONE, .datastack_top = OFFSET_NONE,
                .datastack_limit = OFFSET_NONE },
    .cframe = { .current_frame = OFFSET_NONE },
    .frame = { .back = 24, .code = 32, .position = 96, .owner = OFFSET_NONE,
               .state = 108, .stack_depth = OFFSET_NONE, .localsplus = OFFSET_NONE,
               .is_entry = OFFSET_NONE },
    .frame_live_states = 1u << 0 | 1u << 2,  /* FRAME_EXECUTING, FRAME_UNWINDING */
    .code = { .ob_size = OFFSET_NONE, .firstlineno = 40, .filename = 104, .name = 112,
              .qualname = OFFSET_NONE, .linetable = 120, .code_adaptive = OFFSET_NONE,
              .stacksize = OFFSET_NONE, .nlocalsplus = OFFSET_NONE, .flags = OFFSET_NONE,
              .localsplusnames = OFFSET_NONE, .bytecode = 48 },
    .bytes = BYTES_LAYOUT,
    .unicode = UNICODE_WITH_WSTR,
    .ob_type = OB_TYPE,
    .ob_refcnt = OB_REFCNT,
};

static const struct py_layout layout_3_11 = {
    .frame_model = FRAME_MODEL_INTERPRETER,
    .linetable_format = LINETABLE_LOCATIONS,
    .frame_via_cframe = true,
    .internal_owner_min = OFFSET_NONE,
    .frame_specials_words = 9,
    .runtime = { .interpreters_head = 40, .main_thread = 80 },
    .interp = { .next = 0, .threads_head = 16, .code_generation = OFFSET_NONE },
    .gil = { .in_runtime = 360, .in_interp = OFFSET_NONE },
    .tstate = { .prev = 0, .next = 8, .interp = 16, .frame = 56, .thread_id = 152,
                .native_thread_id = 160, .datastack_top = 304, .datastack_limit = 312 },
    .cframe = { .current_frame = 8 },
    .frame = { .back = 48, .code = 32, .position = 56, .owner = 69,
               .state = OFFSET_NONE, .stack_depth = 64, .localsplus = 72, .is_entry = 68 },
    .inline_callers_started = true,
    .return_opcodes = { 83 },           /* RETURN_VALUE */
    .nreturn_opcodes = 1,
    .code = { .ob_size = 16, .firstlineno = 72, .filename = 112, .name = 120, .qualname = 128,
              .linetable = 136, .code_adaptive = 184, .stacksize = 68, .nlocalsplus = 76,
              .localsplusnames = OFFSET_NONE, .bytecode = OFFSET_NONE, .flags = OFFSET_NONE },
    .bytes = BYTES_LAYOUT,
    .unicode = UNICODE_WITH_WSTR,
    .ob_type = OB_TYPE,
    .ob_refcnt = OB_REFCNT,
};

/* 3.12 introduced shim frames owned by the C stack (owner 3). */
static const struct py_layout layout_3_12 = {
    .frame_model = FRAME_MODEL_INTERPRETER,
    .linetable_format = LINETABLE_LOCATIONS,
    .frame_via_cframe = true,
    .internal_owner_min = 3,
    .frame_specials_words = 9,
    .runtime = { .interpreters_head = 40, .main_thread = 64 },
    .interp = { .next = 0, .threads_head = 72, .code_generation = OFFSET_NONE },
    .gil = { .in_runtime = OFFSET_NONE, .in_interp = 1040 },
    .tstate = { .prev = 0, .next = 8, .interp = 16, .frame = 56, .thread_id = 136,
                .native_thread_id = 144, .datastack_top = 240, .datastack_limit = 248 },
    .cframe = { .current_frame = 0 },
    .frame = { .back = 8, .code = 0, .position = 56, .owner = 70,
               .state = OFFSET_NONE, .stack_depth = 64, .localsplus = 72,
               .is_entry = OFFSET_NONE },
    .inline_callers_started = true,
    /* RETURN_VALUE, RETURN_CONST, INSTRUMENTED_RETURN_VALUE and _CONST */
    .return_opcodes = { 83, 121, 242, 247 },
    .nreturn_opcodes = 4,
    .code = { .ob_size = 16, .firstlineno = 68, .filename = 112, .name = 120, .qualname = 128,
              .linetable = 136, .code_adaptive = 192, .stacksize = 64, .nlocalsplus = 72,
              .localsplusnames = OFFSET_NONE, .bytecode = OFFSET_NONE, .flags = 48 },
    .bytes = BYTES_LAYOUT,
    .unicode = UNICODE_NO_WSTR,
    .ob_type = OB_TYPE,
    .ob_refcnt = OB_REFCNT,
};

const struct py_layout *layout_legacy_for(unsigned minor)
{
    static const struct py_layout *const table[] = {
        [8] = &layout_3_8, [9] = &layout_3_9, [10] = &layout_3_10,
        [11] = &layout_3_11, [12] = &layout_3_12,
    };
    return minor < ARRAY_LEN(table) ? table[minor] : NULL;
}
