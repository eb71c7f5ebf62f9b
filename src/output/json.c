/*
 * json.c — see json.h.
 */
#include "output/json.h"

#include "base/clock.h"

#include <stdbool.h>

static void quote(FILE *f, const char *s, bool html)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&')))
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void json_string(FILE *f, const char *s)
{
    quote(f, s, false);
}

void json_string_in_html(FILE *f, const char *s)
{
    quote(f, s, true);
}

void json_seconds(FILE *f, uint64_t ns)
{
    fprintf(f, "%llu.%09llu", (unsigned long long)(ns / NS_PER_SEC),
            (unsigned long long)(ns % NS_PER_SEC));
}
