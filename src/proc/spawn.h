/*
 * spawn.h — launching the program for `strobe run` and collecting its exit.
 *
 * The child inherits strobe's standard streams and process group, so the
 * program behaves as if run directly (Ctrl-C in the terminal reaches it). A
 * close-on-exec pipe reports whether exec itself failed, so "command not
 * found" is a clear error instead of a child that silently exits 127.
 */
#ifndef STROBE_PROC_SPAWN_H
#define STROBE_PROC_SPAWN_H

#include "base/common.h"

#include <sys/types.h>

/* Start argv[0] (searched in PATH). false with a message on failure. */
bool spawn_program(char *const argv[], pid_t *pid, char *err, size_t errlen);

/* Reap the child if it has exited; its status as a shell would report it
 * (exit code, or 128 + signal). */
bool spawn_reap(pid_t pid, bool block, int *exit_code);

/* Ask the child to end (SIGTERM), give it `grace_ms`, then SIGKILL. Reaps it. */
int spawn_terminate(pid_t pid, unsigned grace_ms);

#endif
