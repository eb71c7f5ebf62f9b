/*
 * utf8.h — recognising well-formed UTF-8, for text strobe did not make
 * (thread names from the kernel, source files from disk) that must come
 * out as valid UTF-8.
 */
#ifndef STROBE_BASE_UTF8_H
#define STROBE_BASE_UTF8_H

#include <stddef.h>

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

#endif
