/*
 * options.h — strobe's command line.
 *
 * strobe attach PID [options]
 * strobe run [options] COMMAND [ARGS...]
 * strobe replay RECORDING [options]
 *
 * The shape and option names follow CPython 3.15's `python -m
 * profiling.sampling` so its users feel at home. The parsed options are the
 * only global state strobe has; everything else is passed explicitly.
 */
#ifndef STROBE_CLI_OPTIONS_H
#define STROBE_CLI_OPTIONS_H

#include "output/formats.h"
#include "output/report.h"
#include "sampler/timer.h"

#include <sys/types.h>

#define DEFAULT_RATE_HZ 1000.0
#define MAX_RATE_HZ 10e6

enum command {
    CMD_ATTACH,
    CMD_RUN,
    CMD_REPLAY,     /* a recording into another format */
    CMD_HELP,       /* print help for `help_topic` and exit 0 */
    CMD_VERSION,
};

struct options {
    enum command command;
    enum command help_topic;    /* CMD_HELP: which help (CMD_HELP = general) */
    pid_t pid;                  /* attach */
    const char *replay_path;    /* replay: the recording */
    const char *record_path;    /* --record: stream a recording there too */
    const char *diff_baseline;  /* --diff-flamegraph BASE: a recording */
    char **program;             /* run: NULL-terminated argv, owned */
    double rate_hz;
    uint64_t interval_ns;
    uint64_t duration_ns;       /* 0: unlimited */
    enum output_format format;
    const char *output_path;    /* -o; NULL: the format's default (formats.h) */
    struct report_options report;
    bool stats;                 /* --stats: strobe's own costs at the end */
    bool realtime_stats;        /* --realtime-stats: a live line on stderr */
    enum cpu_policy cpu_policy; /* --sched */
};

/* Exit statuses of strobe's own failures. */
#define EXIT_USAGE 2
#define EXIT_EXEC_FAILED 127

/* Parse argv. false with a one-line message (no "strobe: " prefix) on a
 * usage error. */
bool options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_free(struct options *o);

/* "10000", "10k", "10khz", "2.5kHz", "1M", "1mhz", "500hz" -> Hz. */
bool parse_rate(const char *s, double *hz);
/* "10", "0.5" seconds -> ns. */
bool parse_duration(const char *s, uint64_t *ns);

void print_help(enum command topic);

#endif
