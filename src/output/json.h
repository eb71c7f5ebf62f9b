/*
 * json.h — the little JSON writing the text formats share.
 *
 * strobe's strings are already valid UTF-8 (see python/strings.h), so only
 * quotes, backslashes and control characters need escaping.
 */
#ifndef STROBE_OUTPUT_JSON_H
#define STROBE_OUTPUT_JSON_H

#include <stdint.h>
#include <stdio.h>

/* "s", quoted and escaped. */
void json_string(FILE *f, const char *s);

/* The same, safe inside an HTML <script> element: '<', '>' and '&' are
 * escaped too, so no name can close the element. */
void json_string_in_html(FILE *f, const char *s);

/* A number of seconds from nanoseconds, exact to the nanosecond. */
void json_seconds(FILE *f, uint64_t ns);

#endif
