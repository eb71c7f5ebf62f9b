/*
 * version.c — see version.h.
 */
#include "python/version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct py_version py_version_from_hex(uint64_t hex)
{
    struct py_version v = {
        .major = (unsigned)(hex >> 24) & 0xFF,
        .minor = (unsigned)(hex >> 16) & 0xFF,
        .micro = (unsigned)(hex >> 8) & 0xFF,
        .level = (unsigned)(hex >> 4) & 0xF,
        .serial = (unsigned)hex & 0xF,
    };
    return v;
}

uint64_t py_version_to_hex(struct py_version v)
{
    unsigned micro = v.micro == PY_MICRO_UNKNOWN ? 0 : v.micro;
    return ((uint64_t)v.major << 24) | ((uint64_t)v.minor << 16) | ((uint64_t)(micro & 0xFF) << 8) |
           ((uint64_t)(v.level & 0xF) << 4) | (v.serial & 0xF);
}

static bool parse_uint(const char **p, unsigned *out)
{
    if (!isdigit((unsigned char)**p))
        return false;
    unsigned long n = 0;
    while (isdigit((unsigned char)**p)) {
        n = n * 10 + (unsigned)(**p - '0');
        if (n > 999)
            return false;
        (*p)++;
    }
    *out = (unsigned)n;
    return true;
}

bool py_version_parse(const char *s, struct py_version *out)
{
    struct py_version v = { 0, 0, PY_MICRO_UNKNOWN, PY_RELEASE_LEVEL_FINAL, 0 };
    const char *p = s;
    if (!parse_uint(&p, &v.major) || *p != '.')
        return false;
    p++;
    if (!parse_uint(&p, &v.minor))
        return false;
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        p++;
        parse_uint(&p, &v.micro);
        static const struct { const char *tag; unsigned level; } tags[] = {
            { "a", 0xA }, { "b", 0xB }, { "rc", 0xC },
        };
        for (size_t i = 0; i < ARRAY_LEN(tags); i++) {
            size_t n = strlen(tags[i].tag);
            if (strncmp(p, tags[i].tag, n) == 0 && isdigit((unsigned char)p[n])) {
                p += n;
                v.level = tags[i].level;
                parse_uint(&p, &v.serial);
                break;
            }
        }
    }
    *out = v;
    return true;
}

void py_version_format(struct py_version v, char *out, size_t outlen)
{
    if (v.micro == PY_MICRO_UNKNOWN) {
        snprintf(out, outlen, "%u.%u", v.major, v.minor);
        return;
    }
    const char *tag = "";
    switch (v.level) {
    case 0xA: tag = "a"; break;
    case 0xB: tag = "b"; break;
    case 0xC: tag = "rc"; break;
    default: break;
    }
    if (*tag)
        snprintf(out, outlen, "%u.%u.%u%s%u", v.major, v.minor, v.micro, tag, v.serial);
    else
        snprintf(out, outlen, "%u.%u.%u", v.major, v.minor, v.micro);
}

bool py_version_supported(struct py_version v)
{
    return v.major == 3 && v.minor >= PY_SUPPORTED_MIN_MINOR && v.minor <= PY_SUPPORTED_MAX_MINOR;
}

void py_version_unsupported_message(struct py_version v, char *out, size_t outlen)
{
    snprintf(out, outlen, "CPython %u.%u is not supported (supported: 3.%d\u20133.%d)", v.major,
             v.minor, PY_SUPPORTED_MIN_MINOR, PY_SUPPORTED_MAX_MINOR);
}
