/*
 * strings.c — str and bytes objects; see strings.h.
 */
#include "python/strings.h"

#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>

/* PEP 393 state bits (every GIL build from 3.3 to 3.15): interned:2, kind:3,
 * compact:1, ascii:1. */
#define STATE_KIND_SHIFT 2
#define STATE_KIND_MASK 7u
#define STATE_COMPACT_BIT (1u << 5)
#define STATE_ASCII_BIT (1u << 6)

#define REPLACEMENT_CHAR 0xFFFDu
#define MAX_CODE_POINT 0x10FFFFu
#define TRUNCATION_MARK "..."
/* Bytes of character data fetched with the header, to save a second read
 * for the usual short names. */
#define STR_PREFETCH 256

static bool is_surrogate(uint32_t cp)
{
    return cp >= 0xD800 && cp <= 0xDFFF;
}

/* UTF-8 of one code point into buf; returns its length (1-4). */
static size_t encode_utf8(uint32_t cp, char buf[4])
{
    if (unicode_is_control(cp)) {
        buf[0] = '?';   /* control characters would break line-based output */
        return 1;
    }
    if (cp > MAX_CODE_POINT || is_surrogate(cp))
        cp = REPLACEMENT_CHAR;
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t unicode_to_utf8(const void *data, size_t length, unsigned kind, bool ascii, char *out,
                       size_t outcap)
{
    if (outcap == 0)
        return 0;
    const uint8_t *p = data;
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        uint32_t cp;
        if (kind == 1) {
            cp = p[i];
            if (ascii && cp >= 0x80)
                cp = '?';
        } else if (kind == 2) {
            uint16_t u;
            memcpy(&u, p + i * 2, 2);
            cp = u;
        } else {
            memcpy(&cp, p + i * 4, 4);
        }
        char buf[4];
        size_t len = encode_utf8(cp, buf);
        if (n + len >= outcap)
            break;
        memcpy(out + n, buf, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

bool py_read_str(struct remote *r, const struct py_layout *l, uint64_t addr, char *out,
                 size_t outcap)
{
    uint8_t head[128 + STR_PREFETCH];
    size_t header = MAX(l->unicode.compact_data, l->unicode.state + 4);
    if (header > 128 || outcap == 0)
        return false;
    size_t have = header + STR_PREFETCH;
    /* The prefetch may run past the object into an unmapped page. */
    if (remote_read(r, addr, head, have) != REMOTE_OK) {
        have = header;
        if (remote_read(r, addr, head, have) != REMOTE_OK)
            return false;
    }
    int64_t length;
    uint32_t state;
    memcpy(&length, head + l->unicode.length, sizeof(length));
    memcpy(&state, head + l->unicode.state, sizeof(state));
    unsigned kind = (state >> STATE_KIND_SHIFT) & STATE_KIND_MASK;
    bool ascii = state & STATE_ASCII_BIT;
    if (!(state & STATE_COMPACT_BIT) || (kind != 1 && kind != 2 && kind != 4) ||
        (ascii && kind != 1) || length < 0)
        return false;
    bool truncated = length > PY_STRING_MAX_CHARS;
    size_t chars = truncated ? PY_STRING_MAX_CHARS : (size_t)length;
    size_t offset = ascii ? l->unicode.ascii_data : l->unicode.compact_data;
    size_t bytes = chars * kind;

    const uint8_t *data;
    uint8_t *heap = NULL;
    if (offset + bytes <= have) {
        data = head + offset;
    } else {
        heap = xmalloc(bytes);
        if (remote_read(r, addr + offset, heap, bytes) != REMOTE_OK) {
            free(heap);
            return false;
        }
        data = heap;
    }
    size_t n = unicode_to_utf8(data, chars, kind, ascii, out, outcap);
    free(heap);
    if (truncated && n + sizeof(TRUNCATION_MARK) <= outcap)
        memcpy(out + n, TRUNCATION_MARK, sizeof(TRUNCATION_MARK));
    return true;
}

bool py_read_bytes(struct remote *r, const struct py_layout *l, uint64_t addr, size_t max_len,
                   uint8_t **data, size_t *len)
{
    int64_t size;
    if (remote_read(r, addr + l->bytes.ob_size, &size, sizeof(size)) != REMOTE_OK)
        return false;
    if (size < 0 || (uint64_t)size > max_len)
        return false;
    uint8_t *buf = xmalloc((size_t)size + 1);
    if (size > 0 && remote_read(r, addr + l->bytes.ob_sval, buf, (size_t)size) != REMOTE_OK) {
        free(buf);
        return false;
    }
    *data = buf;
    *len = (size_t)size;
    return true;
}
