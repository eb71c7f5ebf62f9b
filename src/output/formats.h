/*
 * formats.h — the output formats strobe writes, as data: the option that
 * picks each one, where it goes when no -o is given, and the writer.
 *
 * The text report, folded stacks and JSON lines go to standard output by
 * default (they are read or piped); the formats meant to be opened in
 * another tool go to a file named like Tachyon's, <format>_<pid>.<ext>.
 */
#ifndef STROBE_OUTPUT_FORMATS_H
#define STROBE_OUTPUT_FORMATS_H

#include "output/report.h"
#include "sampler/profile.h"

#include <stdio.h>

enum output_format {
    FORMAT_REPORT,
    FORMAT_COLLAPSED,
    FORMAT_PSTATS,
    FORMAT_SPEEDSCOPE,
    FORMAT_PPROF,
    FORMAT_JSONL,
    FORMAT_FLAMEGRAPH,
    FORMAT_BINARY,      /* streamed while sampling (output/recording.h) */
    FORMAT_GECKO,
    FORMAT_DIFF_FLAMEGRAPH, /* against a baseline recording */
    FORMAT_HEATMAP,
    FORMAT_COUNT,
};

struct output_format_info {
    const char *name;       /* the option: --NAME */
    const char *extension;  /* default file name: <name>_<pid>.<extension> */
    bool to_stdout;         /* without -o, standard output instead of that file */
};

const struct output_format_info *output_format_info(enum output_format f);

/* Where output goes without -o: a newly allocated file name, or NULL for
 * standard output. With -o naming a directory, the default name inside it. */
char *output_default_path(enum output_format f, const char *dir, pid_t pid);

/* How outputs name a thread: "NAME (tid TID)", or "tid TID" without a name. */
#define THREAD_LABEL_MAX 64
void output_thread_label(const struct calltree_thread *thread, char *out, size_t outlen);

/* Whether format `f` is made from a recording's timeline (gecko): the
 * session then records, to a temporary file if no --record was given. */
bool output_needs_recording(enum output_format f);

/* What a format may need beside the profile. */
struct output_request {
    enum output_format format;
    const struct report_options *report;
    const char *recording;      /* the session's recording, NULL if none */
    const char *baseline;       /* --diff-flamegraph: the baseline recording */
};

/* Write `p` as asked. Write errors show when the file is closed; false
 * with a message if a recording it needs could not be read. */
bool output_write(const struct output_request *req, FILE *out, const struct profile *p, char *err,
                  size_t errlen);

#endif
