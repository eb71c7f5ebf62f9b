/*
 * main.c — strobe's entry point: parse the command line and dispatch.
 *
 * Architecture, outside in:
 *   cli/      command line, signals, the attach and run commands
 *   sampler/  the timing loop, stack interning, the aggregated profile
 *   python/   the interpreter model: versions, layouts, threads, frames,
 *             code objects, line tables, strings
 *   proc/     the target process: memory reads, maps, ELF, spawning
 *   output/   one file per output format
 *   base/     small containers and helpers used everywhere
 */
#include "cli/commands.h"
#include "cli/options.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    struct options opts;
    char err[ERRMSG_MAX];
    if (!options_parse(argc, argv, &opts, err, sizeof(err))) {
        fprintf(stderr, "strobe: %s\n", err);
        options_free(&opts);
        return EXIT_USAGE;
    }
    int status = 0;
    switch (opts.command) {
    case CMD_HELP:
        print_help(opts.help_topic);
        break;
    case CMD_VERSION:
        printf("strobe %s\n", STROBE_VERSION);
        break;
    case CMD_ATTACH:
        status = command_attach(&opts);
        break;
    case CMD_RUN:
        status = command_run(&opts);
        break;
    case CMD_REPLAY:
        status = command_replay(&opts);
        break;
    }
    options_free(&opts);
    return status;
}
