/*
 * commands.h — `strobe attach`, `strobe run` and `strobe replay`, from
 * options to exit status.
 */
#ifndef STROBE_CLI_COMMANDS_H
#define STROBE_CLI_COMMANDS_H

#include "cli/options.h"

/* Each returns the process exit status. */
int command_attach(const struct options *o);
int command_run(const struct options *o);
int command_replay(const struct options *o);

#endif
