/*
 * options.c — command-line parsing; see options.h.
 */
#include "cli/options.h"

#include "base/clock.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PYTHON_FOR_SCRIPTS "python3"
#define SCRIPT_SUFFIX ".py"

enum long_only {
    OPT_SORT = 256,
    OPT_NO_SUMMARY,
    OPT_STATS,
    OPT_REALTIME_STATS,
    OPT_RECORD,
    OPT_DIFF_FLAMEGRAPH,
    OPT_SCHED,
    OPT_FORMAT,     /* OPT_FORMAT + enum output_format: --collapsed, --pstats, ... */
};

static const struct option long_options[] = {
    { "rate", required_argument, NULL, 'r' },
    { "sampling-rate", required_argument, NULL, 'r' },
    { "duration", required_argument, NULL, 'd' },
    { "all-threads", no_argument, NULL, 'a' },
    { "collapsed", no_argument, NULL, OPT_FORMAT + FORMAT_COLLAPSED },
    { "pstats", no_argument, NULL, OPT_FORMAT + FORMAT_PSTATS },
    { "speedscope", no_argument, NULL, OPT_FORMAT + FORMAT_SPEEDSCOPE },
    { "pprof", no_argument, NULL, OPT_FORMAT + FORMAT_PPROF },
    { "jsonl", no_argument, NULL, OPT_FORMAT + FORMAT_JSONL },
    { "flamegraph", no_argument, NULL, OPT_FORMAT + FORMAT_FLAMEGRAPH },
    { "binary", no_argument, NULL, OPT_FORMAT + FORMAT_BINARY },
    { "gecko", no_argument, NULL, OPT_FORMAT + FORMAT_GECKO },
    { "heatmap", no_argument, NULL, OPT_FORMAT + FORMAT_HEATMAP },
    { "record", required_argument, NULL, OPT_RECORD },
    { "diff-flamegraph", required_argument, NULL, OPT_DIFF_FLAMEGRAPH },
    { "output", required_argument, NULL, 'o' },
    { "sort", required_argument, NULL, OPT_SORT },
    { "limit", required_argument, NULL, 'l' },
    { "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
    { "stats", no_argument, NULL, OPT_STATS },
    { "realtime-stats", no_argument, NULL, OPT_REALTIME_STATS },
    { "sched", required_argument, NULL, OPT_SCHED },
    { "module", required_argument, NULL, 'm' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

bool parse_rate(const char *s, double *hz)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {
        { "", 1 }, { "hz", 1 }, { "k", 1e3 }, { "khz", 1e3 }, { "m", 1e6 }, { "mhz", 1e6 },
    };
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return false;
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcasecmp(end, units[i].suffix) == 0) {
            v *= units[i].scale;
            if (v <= 0 || v > MAX_RATE_HZ)
                return false;
            *hz = v;
            return true;
        }
    }
    return false;
}

bool parse_duration(const char *s, uint64_t *ns)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* A year is more than anyone profiles for; beyond it is a typo. */
    if (errno || *end || !isfinite(v) || v <= 0 || v > 366.0 * 24 * 3600)
        return false;
    *ns = (uint64_t)(v * (double)NS_PER_SEC);
    return *ns > 0;
}

static bool parse_pid(const char *s, pid_t *pid)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0 || v > INT32_MAX)
        return false;
    *pid = (pid_t)v;
    return true;
}

static bool parse_limit(const char *s, size_t *limit)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *limit = (size_t)v;
    return true;
}

static void defaults(struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->rate_hz = DEFAULT_RATE_HZ;
    o->format = FORMAT_REPORT;
    o->report = (struct report_options){ SORT_NSAMPLES, REPORT_DEFAULT_LIMIT, true };
    o->cpu_policy = CPU_POLICY_BATCH;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* argv of the program to run: COMMAND ARGS, `python3 SCRIPT.py ARGS`, or
 * `python3 -m MODULE ARGS`. */
static char **program_argv(const char *module, char **rest, int nrest)
{
    int extra = module ? 3 : (nrest > 0 && ends_with(rest[0], SCRIPT_SUFFIX) ? 1 : 0);
    char **argv = xcalloc((size_t)extra + (size_t)nrest + 1, sizeof(*argv));
    int n = 0;
    if (extra)
        argv[n++] = xstrdup(PYTHON_FOR_SCRIPTS);
    if (module) {
        argv[n++] = xstrdup("-m");
        argv[n++] = xstrdup(module);
    }
    for (int i = 0; i < nrest; i++)
        argv[n++] = xstrdup(rest[i]);
    argv[n] = NULL;
    return argv;
}

static bool usage_error(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    return false;
}

bool options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    defaults(o);
    if (argc < 2)
        return usage_error(err, errlen, "%s", "missing command (try 'strobe --help')");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        o->command = CMD_HELP;
        o->help_topic = CMD_HELP;
        return true;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        o->command = CMD_VERSION;
        return true;
    }
    if (strcmp(cmd, "attach") == 0)
        o->command = CMD_ATTACH;
    else if (strcmp(cmd, "run") == 0)
        o->command = CMD_RUN;
    else if (strcmp(cmd, "replay") == 0)
        o->command = CMD_REPLAY;
    else
        return usage_error(err, errlen, "unknown command '%s' (try 'strobe --help')", cmd);

    /* `run` stops at COMMAND ("+"); the others allow options anywhere. */
    const char *shortopts = o->command == CMD_RUN ? "+:r:d:ao:l:m:h" : ":r:d:ao:l:h";
    const char *module = NULL;
    const char *sampling_option = NULL;     /* the first one given */
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    optind = 0;     /* 0, not 1: makes glibc re-read the '+' of shortopts */
    opterr = 0;
    int c;
    while ((c = getopt_long(sub_argc, sub_argv, shortopts, long_options, NULL)) != -1) {
        switch (c) {
        case 'r':
            sampling_option = "--rate";
            if (!parse_rate(optarg, &o->rate_hz))
                return usage_error(err, errlen,
                                   "invalid rate '%s' (examples: 1000, 10k, 10khz, 1M)", optarg);
            break;
        case 'd':
            sampling_option = "--duration";
            if (!parse_duration(optarg, &o->duration_ns))
                return usage_error(err, errlen, "invalid duration '%s' (seconds, e.g. 10 or 0.5)",
                                   optarg);
            break;
        case 'a':
            break;  /* every thread is always sampled */
        case 'o':
            if (!*optarg)
                return usage_error(err, errlen, "%s", "-o needs a file or directory name");
            o->output_path = optarg;
            break;
        case 'l':
            if (!parse_limit(optarg, &o->report.limit))
                return usage_error(err, errlen, "invalid limit '%s' (a number of rows)", optarg);
            break;
        case 'm':
            if (o->command != CMD_RUN)
                return usage_error(err, errlen, "%s", "-m is only for 'strobe run'");
            module = optarg;
            goto done;  /* the module's own arguments follow */
        case OPT_SORT:
            if (!report_parse_sort(optarg, &o->report.sort)) {
                snprintf(err, errlen, "invalid sort key '%s' (one of: %s)", optarg,
                         REPORT_SORT_NAMES);
                return false;
            }
            break;
        case OPT_NO_SUMMARY:
            o->report.summary = false;
            break;
        case OPT_STATS:
            sampling_option = "--stats";
            o->stats = true;
            break;
        case OPT_REALTIME_STATS:
            sampling_option = "--realtime-stats";
            o->realtime_stats = true;
            break;
        case OPT_SCHED:
            sampling_option = "--sched";
            if (!cpu_policy_parse(optarg, &o->cpu_policy)) {
                snprintf(err, errlen, "invalid scheduling '%s' (one of: %s)", optarg,
                         CPU_POLICY_NAMES);
                return false;
            }
            break;
        case OPT_RECORD:
            if (!*optarg || strcmp(optarg, "-") == 0)
                return usage_error(err, errlen, "%s",
                                   "--record needs a file name (to stream a recording to "
                                   "standard output: --binary -o -)");
            o->record_path = optarg;
            break;
        case OPT_DIFF_FLAMEGRAPH:
            if (o->format != FORMAT_REPORT && o->format != FORMAT_DIFF_FLAMEGRAPH) {
                snprintf(err, errlen, "choose one output format, not both --%s and --diff-flamegraph",
                         output_format_info(o->format)->name);
                return false;
            }
            o->format = FORMAT_DIFF_FLAMEGRAPH;
            o->diff_baseline = optarg;
            break;
        case 'h':
            o->help_topic = o->command;
            o->command = CMD_HELP;
            return true;
        case ':':
            return usage_error(err, errlen, "option '%s' needs a value", sub_argv[optind - 1]);
        default:
            if (c > OPT_FORMAT && c < OPT_FORMAT + FORMAT_COUNT) {
                enum output_format f = (enum output_format)(c - OPT_FORMAT);
                if (o->format != FORMAT_REPORT && o->format != f) {
                    snprintf(err, errlen, "choose one output format, not both --%s and --%s",
                             output_format_info(o->format)->name, output_format_info(f)->name);
                    return false;
                }
                o->format = f;
                break;
            }
            /* An unknown letter in a cluster (-xa) leaves optind on the
             * cluster: name the letter, as getopt does. */
            if (optopt) {
                char letter[] = { '-', (char)optopt, '\0' };
                return usage_error(err, errlen, "unknown option '%s' (try 'strobe --help')",
                                   letter);
            }
            return usage_error(err, errlen, "unknown option '%s' (try 'strobe --help')",
                               sub_argv[optind - 1]);
        }
    }
done:;
    int nrest = sub_argc - optind;
    char **rest = sub_argv + optind;
    o->interval_ns = (uint64_t)llround((double)NS_PER_SEC / o->rate_hz);
    if (o->interval_ns == 0)
        o->interval_ns = 1;
    if (o->format == FORMAT_BINARY && o->record_path)
        return usage_error(err, errlen, "%s",
                           "--record keeps a recording beside another format; with --binary, use -o");
    if (o->command == CMD_REPLAY) {
        if (nrest != 1)
            return usage_error(err, errlen, "%s",
                               nrest ? "replay takes one recording" : "replay needs a recording "
                                                                      "(made with --binary or --record)");
        if (o->format == FORMAT_BINARY || o->record_path)
            return usage_error(err, errlen, "%s", "replay writes a recording into another format");
        if (sampling_option)
            return usage_error(err, errlen, "%s applies to sampling (attach, run), not to replay",
                               sampling_option);
        o->replay_path = rest[0];
        return true;
    }
    /* A recording is written as it goes: with `run`, the program's own
     * output would land in the middle of it. */
    if (o->command == CMD_RUN && o->format == FORMAT_BINARY && o->output_path &&
        strcmp(o->output_path, "-") == 0)
        return usage_error(err, errlen, "%s",
                           "--binary -o - is for attach: with run, the program writes to "
                           "standard output too");
    if (o->command == CMD_ATTACH) {
        if (nrest != 1)
            return usage_error(err, errlen, "%s",
                               nrest ? "attach takes one PID" : "attach needs a PID");
        if (!parse_pid(rest[0], &o->pid))
            return usage_error(err, errlen, "invalid PID '%s'", rest[0]);
        return true;
    }
    if (!module && nrest == 0)
        return usage_error(err, errlen, "%s", "run needs a COMMAND (e.g. strobe run python3 app.py)");
    o->program = program_argv(module, rest, nrest);
    return true;
}

void options_free(struct options *o)
{
    if (o->program) {
        for (char **a = o->program; *a; a++)
            free(*a);
        free(o->program);
    }
    o->program = NULL;
}

static const char HELP_GENERAL[] =
    "strobe " STROBE_VERSION " - a sampling profiler for CPython 3.8-3.15\n"
    "\n"
    "Usage:\n"
    "  strobe attach PID [options]            profile a running process\n"
    "  strobe run [options] COMMAND [ARGS...]  launch COMMAND and profile it\n"
    "  strobe replay RECORDING [options]       turn a recording into any format\n"
    "  strobe --version\n"
    "  strobe attach --help | strobe run --help | strobe replay --help\n"
    "\n"
    "strobe reads the interpreter's stacks from outside the process: no code\n"
    "change, no restart, every thread. Ctrl-C stops sampling and writes the\n"
    "result.\n";

static const char HELP_SAMPLING[] =
    "Sampling:\n"
    "  -r, --rate RATE        samples per second: 1000, 10k, 10khz, 1M (default 1k)\n"
    "  -d, --duration SECS    stop after SECS seconds (default: until the program\n"
    "                         ends or Ctrl-C)\n"
    "  -a, --all-threads      accepted for compatibility; every thread is always\n"
    "                         sampled\n"
    "  --realtime-stats       show the achieved rate, missed and error rates live\n"
    "                         on standard error\n"
    "  --stats                at the end, show what sampling cost strobe: system\n"
    "                         calls, bytes read, cache hit rates, CPU, memory\n"
    "  --sched POLICY         how strobe competes for the CPU: batch (default; its\n"
    "                         wake-ups never preempt the program), normal (fewest\n"
    "                         missed samples), idle (only CPU time no one wants)\n"
    "\n";

static const char HELP_OUTPUT[] =
    "Output (default: a text report on standard output):\n"
    "  --collapsed            folded stacks: tid:TID;file:function:line;... COUNT\n"
    "  --jsonl                JSON lines for scripts (docs/jsonl.md)\n"
    "  --flamegraph           an interactive flame graph, one self-contained HTML\n"
    "  --pstats               Python's stats file: python -m pstats FILE, snakeviz\n"
    "  --speedscope           speedscope JSON: open in https://www.speedscope.app\n"
    "  --pprof                gzipped pprof protobuf: go tool pprof, Pyroscope\n"
    "  --diff-flamegraph BASE a flame graph coloured by what got slower (red) or\n"
    "                         faster (blue) than the recording BASE (--binary)\n"
    "  --heatmap              every profiled source file, each line coloured by its\n"
    "                         samples, in one self-contained HTML page\n"
    "  --gecko                Firefox Profiler JSON, every sample at its time:\n"
    "                         open in https://profiler.firefox.com\n";

/* Not for replay, which reads a recording. */
static const char HELP_RECORDING[] =
    "  --binary               a recording of every sample, written as it goes\n"
    "                         (zstd; docs/recording.md): strobe replay reads it\n"
    "  --record FILE          also stream a recording to FILE, beside the output\n";

static const char HELP_OUTPUT_FILES[] =
    "  -o, --output FILE      write the output to FILE (or into a directory).\n"
    "                         Without -o, the report, --collapsed and --jsonl go\n"
    "                         to standard output, the others to FORMAT_PID.EXT\n"
    "                         (flamegraph_PID.html, pstats_PID.pstats,\n"
    "                         speedscope_PID.json, pprof_PID.pb.gz, gecko_PID.json,\n"
    "                         binary_PID.bin, diff-flamegraph_PID.html,\n"
    "                         heatmap_PID.html)\n"
    "  --sort KEY             report order: nsamples (default), tottime, cumtime,\n"
    "                         sample-pct, cumul-pct, nsamples-cumul, name\n"
    "  -l, --limit N          rows in the report (default 15; 0 for all)\n"
    "  --no-summary           leave out the summary of interesting functions\n"
    "  -h, --help             this help\n";

static const char HELP_ATTACH[] =
    "Usage: strobe attach PID [options]\n"
    "\n"
    "Profile the running Python process PID until it exits, --duration runs out,\n"
    "or Ctrl-C. The process is only read, never stopped or modified. Reading\n"
    "another user's process needs root or CAP_SYS_PTRACE.\n";

static const char HELP_REPLAY[] =
    "Usage: strobe replay RECORDING [options]\n"
    "\n"
    "Read a recording made with --binary or --record and write it in any output\n"
    "format, exactly as profiling straight into that format would have. A\n"
    "recording cut short (strobe was killed) is replayed up to where it stops.\n";

static const char HELP_RUN[] =
    "Usage: strobe run [options] COMMAND [ARGS...]\n"
    "       strobe run [options] SCRIPT.py [ARGS...]\n"
    "       strobe run [options] -m MODULE [ARGS...]\n"
    "\n"
    "Launch COMMAND (any program that is or execs a Python interpreter, e.g.\n"
    "'python3.12 app.py' or 'uvicorn app:main') and profile it until it exits.\n"
    "A first word ending in .py runs under python3 from PATH; -m MODULE runs\n"
    "'python3 -m MODULE'. Options must come before COMMAND. The program's\n"
    "input and output pass through, and strobe exits with its exit status (0 if\n"
    "strobe stopped it because --duration ran out).\n";

void print_help(enum command topic)
{
    if (topic == CMD_ATTACH)
        fputs(HELP_ATTACH, stdout);
    else if (topic == CMD_RUN)
        fputs(HELP_RUN, stdout);
    else if (topic == CMD_REPLAY)
        fputs(HELP_REPLAY, stdout);
    else
        fputs(HELP_GENERAL, stdout);
    fputc('\n', stdout);
    if (topic != CMD_REPLAY)
        fputs(HELP_SAMPLING, stdout);
    fputs(HELP_OUTPUT, stdout);
    if (topic != CMD_REPLAY)
        fputs(HELP_RECORDING, stdout);
    fputs(HELP_OUTPUT_FILES, stdout);
    if (topic == CMD_RUN)
        fputs("  -m, --module MODULE    run 'python3 -m MODULE ARGS...'\n", stdout);
}
