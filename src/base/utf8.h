/*
 * utf8.h — recognising well-formed UTF-8, for text strobe did not make
 * (thread names from the kernel, source files from disk) that must come
 * out as valid UTF-8, and the control characters that must not come out
 * in line-based output.
 */
#ifndef STROBE_BASE_UTF8_H
#define STROBE_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Control characters: C0 and DEL, and C1 (U+0080-U+009F), which a
 * terminal obeys as well (U+009B is CSI, the start of an escape sequence)
 * and Unicode counts as line breaks (U+0085); the line and paragraph
 * separators, line breaks to Unicode, as to Python's str.splitlines; and
 * the bidirectional embeddings, overrides and isolates, which reorder the
 * text after them on screen (a file name could make a report line read as
 * another: "Trojan Source"). */
#define UNICODE_C0_END 0x20u
#define UNICODE_DEL 0x7Fu
#define UNICODE_C1_FIRST 0x80u
#define UNICODE_C1_LAST 0x9Fu
#define UNICODE_LINE_SEPARATOR 0x2028u
#define UNICODE_PARAGRAPH_SEPARATOR 0x2029u
#define UNICODE_BIDI_EMBEDDING_FIRST 0x202Au     /* LRE, RLE, PDF, LRO, RLO */
#define UNICODE_BIDI_EMBEDDING_LAST 0x202Eu
#define UNICODE_BIDI_ISOLATE_FIRST 0x2066u       /* LRI, RLI, FSI, PDI */
#define UNICODE_BIDI_ISOLATE_LAST 0x2069u

/* Would the code point act on a terminal, end a line of output, or reorder
 * the text around it? */
static inline bool unicode_is_control(uint32_t cp)
{
    return cp < UNICODE_C0_END || cp == UNICODE_DEL ||
           (cp >= UNICODE_C1_FIRST && cp <= UNICODE_C1_LAST) ||
           cp == UNICODE_LINE_SEPARATOR || cp == UNICODE_PARAGRAPH_SEPARATOR ||
           (cp >= UNICODE_BIDI_EMBEDDING_FIRST && cp <= UNICODE_BIDI_EMBEDDING_LAST) ||
           (cp >= UNICODE_BIDI_ISOLATE_FIRST && cp <= UNICODE_BIDI_ISOLATE_LAST);
}

/* The range a character's second byte must lie in, given its first
 * (Unicode's table of well-formed byte sequences): narrower than any
 * continuation byte after E0 and F0 (which would be overlong), ED (a
 * surrogate) and F4 (past U+10FFFF). */
static inline void utf8_second_byte_range(unsigned char lead, unsigned char *lo,
                                          unsigned char *hi)
{
    *lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
    *hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
}

/* Length of the well-formed UTF-8 character at s (n > 0 bytes left), or 0
 * if there is none (a stray or cut-off byte, an overlong form, a surrogate,
 * a code point past U+10FFFF). */
static inline size_t utf8_char_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    if (len == 1)
        return 1;
    unsigned char lo, hi;
    utf8_second_byte_range(s[0], &lo, &hi);
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* The code point of the well-formed character of `len` bytes at s: the
 * lead byte's payload (its mask by length), then 6 bits per continuation. */
static inline uint32_t utf8_decode(const unsigned char *s, size_t len)
{
    static const unsigned char lead_bits[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    uint32_t cp = s[0] & lead_bits[len];
    for (size_t i = 1; i < len; i++)
        cp = cp << 6 | (s[i] & 0x3f);
    return cp;
}

/* Length of the character at s (n > 0 bytes left) if it is well-formed
 * UTF-8 and safe in line-based output (no control character), else 0. */
static inline size_t utf8_text_char_len(const unsigned char *s, size_t n)
{
    size_t len = utf8_char_len(s, n);
    return len && !unicode_is_control(utf8_decode(s, len)) ? len : 0;
}

/* Are the n bytes at s such characters only, as strobe writes every name
 * it takes from a target? */
static inline bool utf8_is_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, len; i < n; i += len)
        if (!(len = utf8_text_char_len(u + i, n - i)))
            return false;
    return true;
}

/* Bytes not from strobe (a thread's name from the kernel or from a
 * recording) as text for line-based output: whole well-formed characters that are no
 * control character, '?' for each one that is and for each stray byte. At
 * most outlen - 1 bytes and a NUL; returns the length. */
static inline size_t utf8_clean(const unsigned char *raw, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t c = utf8_char_len(raw + i, len - i);
        bool keep = c && !unicode_is_control(utf8_decode(raw + i, c));
        size_t width = keep ? c : 1;
        if (o + width >= outlen)
            break;
        if (keep)
            memcpy(out + o, raw + i, c);
        else
            out[o] = '?';
        o += width;
        i += c ? c : 1;
    }
    out[o] = '\0';
    return o;
}

#endif
