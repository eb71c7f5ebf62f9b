/*
 * common.h — small definitions every strobe module uses.
 *
 * Kept deliberately tiny: sized integer types, a few macros, and the
 * allocation helpers that abort on out-of-memory. strobe cannot do anything
 * useful without memory, and an allocation failure in the middle of a sample
 * is not something to recover from, so xmalloc and friends exit with a clear
 * message instead of spreading NULL checks through every module.
 */
#ifndef STROBE_BASE_COMMON_H
#define STROBE_BASE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define STROBE_VERSION "0.1.0"

/* Sentinel for "no index" in the u32 id spaces used by the tables. */
#define ID_NONE UINT32_MAX

/* Room for one user-facing error message (one line, no trailing newline). */
#define ERRMSG_MAX 512

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array to hold at least `need` elements, doubling; updates *cap. */
void *xgrow(void *ptr, size_t *cap, size_t need, size_t elem_size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
