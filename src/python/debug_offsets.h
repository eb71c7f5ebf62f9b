/*
 * debug_offsets.h — turning a 3.13+ interpreter's own _Py_DebugOffsets table
 * into a struct py_layout.
 *
 * Since 3.13, _PyRuntime starts with _Py_DebugOffsets: the cookie "xdebugpy",
 * PY_VERSION_HEX, a free-threading flag, then u64 sizes and offsets of the
 * interpreter's structures. The table has no length field and grew in 3.14
 * and 3.15, so which word holds which offset is chosen by the version word;
 * those word positions are data in debug_offsets.c.
 */
#ifndef STROBE_PYTHON_DEBUG_OFFSETS_H
#define STROBE_PYTHON_DEBUG_OFFSETS_H

#include "python/layout.h"

#define DEBUG_OFFSETS_COOKIE "xdebugpy"
#define DEBUG_OFFSETS_COOKIE_LEN 8
/* Enough bytes for the largest known table (3.15: 111 words). */
#define DEBUG_OFFSETS_MAX_BYTES 1024

/* Does `table` (at least 8 bytes) start with the cookie? */
bool debug_offsets_present(const void *table, size_t len);

/* Version word of a table that has the cookie. */
uint64_t debug_offsets_version(const void *table);

/* How many bytes of table to read for this version (0 if unknown minor). */
size_t debug_offsets_size(struct py_version v);

/*
 * Build `out` from the `len`-byte table. false, with a message in err, if the
 * version has no known table format, the build is free-threaded, or any
 * offset is implausible (which also catches pre-release layouts).
 */
bool debug_offsets_to_layout(const void *table, size_t len, struct py_layout *out, char *err,
                             size_t errlen);

#endif
