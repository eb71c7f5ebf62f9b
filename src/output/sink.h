/*
 * sink.h — where an output goes: stdout, or a file written safely.
 *
 * A regular file is written under a temporary name in the same directory
 * and renamed over the requested path only once complete, so a killed strobe
 * or a full disk never leaves a truncated file where the user expects a
 * profile. A path that leads through a symbolic link is written where the
 * link points. Anything else that exists (a device such as /dev/null, a
 * pipe, a socket) is written to directly: it must never be replaced. A path
 * to strobe's own standard output or error (/dev/stdout, even when that is
 * a file the shell appends to) is written through that open stream.
 */
#ifndef STROBE_OUTPUT_SINK_H
#define STROBE_OUTPUT_SINK_H

#include "base/common.h"

#include <stdio.h>

struct sink {
    FILE *f;
    char *path;         /* NULL: stdout or stderr, as f says */
    char *tmp_path;     /* NULL: written in place (not a regular file) */
};

/* Open `path` (NULL or "-" for stdout). false with a message on failure. */
bool sink_open(struct sink *s, const char *path, char *err, size_t errlen);

/* Finish: flush, check for write errors, rename into place. false with a
 * message if anything failed (the temporary file is removed). */
bool sink_close(struct sink *s, char *err, size_t errlen);

/* Abandon a file output: remove the temporary file. */
void sink_abort(struct sink *s);

/* Could an output or a recording be written at `path` (a file, or a
 * directory to hold one)? Asked before profiling begins, so that a bad path
 * costs no profile; nothing at the path is changed. false with a message. */
bool sink_check_writable(const char *path, char *err, size_t errlen);

/* Do two paths name the same file (existing or not)? */
bool sink_same_file(const char *a, const char *b);

#endif
