/*
 * fuzz_debug_offsets.c — the _Py_DebugOffsets parser (3.13+) over arbitrary
 * tables: offsets beyond their structs, sizes that overflow, truncated
 * tables, unknown versions. Input: the table after its cookie (the cookie is
 * supplied, so every input reaches the parser). A layout it accepts must
 * keep every field inside the struct it belongs to.
 */
#include "python/debug_offsets.h"
#include "python/layout.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t table[DEBUG_OFFSETS_MAX_BYTES];
    size_t len = DEBUG_OFFSETS_COOKIE_LEN + size;
    if (len > sizeof(table))
        len = sizeof(table);
    memcpy(table, DEBUG_OFFSETS_COOKIE, DEBUG_OFFSETS_COOKIE_LEN); // NOLINT(bugprone-not-null-terminated-result): a cookie, not a string
    memcpy(table + DEBUG_OFFSETS_COOKIE_LEN, data, len - DEBUG_OFFSETS_COOKIE_LEN);
    struct py_layout l;
    char err[256];
    if (!debug_offsets_present(table, len))
        abort();
    if (debug_offsets_to_layout(table, len, &l, err, sizeof(err))) {
        /* What the walker reads per object must be bounded. */
        if (l.tstate_read_size > 8192 || l.frame_read_size > 8192 || l.code_read_size > 8192)
            abort();
    }
    return 0;
}
