/*
 * formats.c — the table of output formats; see formats.h.
 */
#include "output/formats.h"

#include "output/collapsed.h"
#include "output/flamegraph.h"
#include "output/gecko.h"
#include "output/heatmap.h"
#include "output/jsonl.h"
#include "output/pprof.h"
#include "output/pstats.h"
#include "output/speedscope.h"

#include <stdlib.h>
#include <string.h>

static const struct output_format_info formats[FORMAT_COUNT] = {
    [FORMAT_REPORT] = { "report", "txt", true },
    [FORMAT_COLLAPSED] = { "collapsed", "txt", true },
    [FORMAT_PSTATS] = { "pstats", "pstats", false },
    [FORMAT_SPEEDSCOPE] = { "speedscope", "json", false },
    [FORMAT_PPROF] = { "pprof", "pb.gz", false },
    [FORMAT_JSONL] = { "jsonl", "jsonl", true },
    [FORMAT_FLAMEGRAPH] = { "flamegraph", "html", false },
    [FORMAT_BINARY] = { "binary", "bin", false },
    [FORMAT_GECKO] = { "gecko", "json", false },
    [FORMAT_DIFF_FLAMEGRAPH] = { "diff-flamegraph", "html", false },
    [FORMAT_HEATMAP] = { "heatmap", "html", false },
};

const struct output_format_info *output_format_info(enum output_format f)
{
    return &formats[f];
}

char *output_default_path(enum output_format f, const char *dir, pid_t pid)
{
    const struct output_format_info *info = &formats[f];
    if (info->to_stdout && !dir)
        return NULL;
    size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(info->name) + strlen(info->extension) + 32;
    char *path = xmalloc(len);
    bool separator = dir && *dir && dir[strlen(dir) - 1] != '/';
    snprintf(path, len, "%s%s%s_%d.%s", dir ? dir : "", separator ? "/" : "", info->name,
             (int)pid, info->extension);
    return path;
}

void output_thread_label(const struct calltree_thread *thread, char *out, size_t outlen)
{
    if (thread->name[0])
        snprintf(out, outlen, "%s (tid %llu)", thread->name, (unsigned long long)thread->tid);
    else
        snprintf(out, outlen, "tid %llu", (unsigned long long)thread->tid);
}

bool output_needs_recording(enum output_format f)
{
    return f == FORMAT_GECKO;
}

bool output_write(const struct output_request *req, FILE *out, const struct profile *p, char *err,
                  size_t errlen)
{
    switch (req->format) {
    case FORMAT_REPORT:
        report_write_capture_summary(out, p);
        report_write(out, p, req->report);
        break;
    case FORMAT_COLLAPSED:
        collapsed_write(out, p);
        break;
    case FORMAT_PSTATS:
        /* pstats.Stats refuses a file without a function. */
        if (!p->stats.thread_samples) {
            snprintf(err, errlen, "no samples were collected, and Python's pstats cannot "
                                  "open a stats file without any");
            return false;
        }
        pstats_write(out, p);
        break;
    case FORMAT_SPEEDSCOPE:
        speedscope_write(out, p);
        break;
    case FORMAT_PPROF:
        pprof_write(out, p);
        break;
    case FORMAT_JSONL:
        jsonl_write(out, p);
        break;
    case FORMAT_FLAMEGRAPH:
        flamegraph_write(out, p, NULL);
        break;
    case FORMAT_HEATMAP:
        heatmap_write(out, p);
        break;
    case FORMAT_DIFF_FLAMEGRAPH:
        return flamegraph_write_diff(out, p, req->baseline, err, errlen);
    case FORMAT_GECKO:
        if (!req->recording) {
            snprintf(err, errlen, "the Firefox Profiler format needs the samples' times, "
                                  "from a recording");
            return false;
        }
        return gecko_write(out, req->recording, err, errlen);
    case FORMAT_BINARY:     /* written while sampling, by the recorder */
    case FORMAT_COUNT:
        break;
    }
    return true;
}
