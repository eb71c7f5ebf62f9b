/*
 * utf8.h — recognising well-formed UTF-8, for text strobe did not make
 * (thread names from the kernel, source files from disk) that must come
 * out as valid UTF-8.
 */
#ifndef STROBE_BASE_UTF8_H
#define STROBE_BASE_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 character at s (n > 0 bytes left), or 0
 * if there is none (a stray or cut-off byte, an overlong two-byte form). */
static inline size_t utf8_char_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

#endif
