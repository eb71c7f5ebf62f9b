/*
 * fuzz_linetable.c — line-table decoding of every format over arbitrary
 * bytes: tables that run off the end, huge deltas, negative lines, varints
 * without end. Input: a format byte, co_firstlineno (4 bytes), the table.
 * Every offset looked up must give a line or LINE_NONE, never a crash.
 */
#include "python/linetable.h"

#include <string.h>

#define HEADER_BYTES 5
/* Offsets probed per input, spread over and beyond the code. */
#define PROBES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_BYTES)
        return 0;
    static const enum py_linetable_format formats[] = {
        LINETABLE_LNOTAB, LINETABLE_PEP626, LINETABLE_LOCATIONS,
    };
    enum py_linetable_format format = formats[data[0] % 3];
    int32_t firstlineno;
    memcpy(&firstlineno, data + 1, sizeof(firstlineno));
    struct line_table t;
    line_table_decode(&t, format, data + HEADER_BYTES, size - HEADER_BYTES, firstlineno);
    int64_t span = t.count ? (int64_t)t.ranges[t.count - 1].end + 2 : 16;
    for (int64_t i = -1; i < PROBES; i++) {
        int32_t line = line_table_lookup(&t, i * span / PROBES);
        (void)line;
    }
    line_table_lookup(&t, INT64_MAX);
    line_table_lookup(&t, INT64_MIN);
    line_table_free(&t);
    return 0;
}
