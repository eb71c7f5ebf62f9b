/*
 * strings.h — reading Python str and bytes objects out of the target.
 *
 * Names and file names are PEP 393 compact strings: a header, then the
 * characters as 1, 2 or 4 bytes each. strobe converts them to UTF-8 once per
 * code object. Everything read is untrusted: lengths are capped, the kind
 * must be valid, and anything that is not a valid Unicode scalar value, or is
 * a control character, becomes U+FFFD or '?' — output stays valid UTF-8 on
 * one line, whatever the target's memory holds.
 */
#ifndef STROBE_PYTHON_STRINGS_H
#define STROBE_PYTHON_STRINGS_H

#include "proc/memory.h"
#include "python/layout.h"

/* Names longer than this many code points are cut and end in "...". */
#define PY_STRING_MAX_CHARS 4096
/* Worst case UTF-8 for PY_STRING_MAX_CHARS code points, the marker and NUL. */
#define PY_STRING_MAX_UTF8 (PY_STRING_MAX_CHARS * 4 + 8)
/* Line tables larger than this are refused (a 100k-line function is ~1 MiB). */
#define PY_BYTES_MAX ((size_t)16 * 1024 * 1024)

/*
 * Encode `length` characters of `kind` (1, 2 or 4 bytes each) at `data` as
 * UTF-8 into out[outcap] (NUL-terminated, cut at a character boundary if out
 * is too small). `ascii` marks data that must be 7-bit. Returns the number of
 * bytes written, excluding the NUL.
 */
size_t unicode_to_utf8(const void *data, size_t length, unsigned kind, bool ascii, char *out,
                       size_t outcap);

/* Read the str object at `addr` into out as UTF-8. false if it is not a
 * readable compact str. */
bool py_read_str(struct remote *r, const struct py_layout *l, uint64_t addr, char *out,
                 size_t outcap);

/* Read the bytes object at `addr`: a malloc'd copy in *data, its size in
 * *len. false if unreadable or larger than `max_len`. */
bool py_read_bytes(struct remote *r, const struct py_layout *l, uint64_t addr, size_t max_len,
                   uint8_t **data, size_t *len);

#endif
