/*
 * signals.h — Ctrl-C and SIGTERM: finish cleanly, then exit at once.
 *
 * The first SIGINT or SIGTERM asks sampling to stop; the profile collected so
 * far is then written as usual. A second SIGINT exits immediately. A program
 * strobe launched gets the signal too: a terminal's Ctrl-C reaches it
 * directly (same process group); a signal sent to strobe alone is forwarded.
 *
 * The flags set by the handlers are the one piece of global mutable state
 * strobe has besides its options: a signal handler has nowhere else to write.
 */
#ifndef STROBE_CLI_SIGNALS_H
#define STROBE_CLI_SIGNALS_H

#include <stdbool.h>
#include <sys/types.h>

/* Exit status after a second Ctrl-C, as a shell reports death by SIGINT. */
#define EXIT_INTERRUPTED 130

/* Install the handlers; forward SIGTERM to `child` if it is > 0. */
void signals_install(pid_t child);

bool signals_stop_requested(void);

#endif
