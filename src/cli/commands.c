/*
 * commands.c — attach and run; see commands.h.
 *
 * Both end the same way: sample the attached target, then write the chosen
 * output. They differ in how the target is found (a PID, or a program that
 * must first start its interpreter) and in the exit status (strobe's own, or
 * the launched program's).
 */
#include "cli/commands.h"

#include "base/clock.h"
#include "base/hash.h"
#include "cli/signals.h"
#include "output/formats.h"
#include "output/recording.h"
#include "output/report.h"
#include "output/sink.h"
#include "output/stats.h"
#include "proc/maps.h"
#include "proc/process.h"
#include "proc/spawn.h"
#include "python/target.h"
#include "sampler/sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often `run` looks for the interpreter while the program starts up:
 * often enough to catch a program that lives a fraction of a second. */
#define RUNTIME_POLL_NS (500 * NS_PER_US)
/* After this long without an interpreter, say what strobe is waiting for. */
#define RUNTIME_WAIT_NOTICE_NS (5 * NS_PER_SEC)
/* With the map unchanged, another look after this long, twice as long
 * after each that fails, up to the most: whatever made a look fail (a
 * runtime not yet readable, a slow look that outlasted the last change of
 * the map) may have passed, with nothing left to change the map. */
#define RUNTIME_RETRY_FIRST_NS (20 * NS_PER_MS)
#define RUNTIME_RETRY_MOST_NS NS_PER_SEC
/* How often the target is checked for having exec'd another program or
 * exited, and how soon again after stacks could not be read (a thread that
 * stays unreadable must not have /proc read with every sample). */
#define EXEC_CHECK_NS (100 * NS_PER_MS)
#define EXEC_CHECK_ON_ERROR_NS NS_PER_MS
/* How often --realtime-stats prints. */
#define REALTIME_STATS_PERIOD_NS NS_PER_SEC
/* Grace period for a launched program told to stop after --duration. */
#define TERMINATE_GRACE_MS 2000

static void error_line(const char *msg)
{
    fprintf(stderr, "strobe: %s\n", msg);
}

/* State of the between-samples poll: the live statistics line, and the
 * program image the target ran when sampling began. */
struct poll_state {
    bool realtime_stats;
    bool terminal;
    uint64_t last_print_ns;
    uint64_t cpu_at_last_print_ns;  /* strobe's CPU time then */
    struct profile_stats at_last_print;
    pid_t pid;
    uint64_t exec_id;
    uint64_t exec_checked_ns;
    uint64_t errors_at_check;   /* thread errors when it was last checked */
    struct recorder *recorder;  /* NULL: no recording */
};

/*
 * Has the target exited or exec'd? Looked at every EXEC_CHECK_NS, and at
 * once when stacks could not be read (an exec shows first that way). An
 * exit is found here between the slow samples of a low rate, rather than
 * by the next sample's failed read.
 */
static int target_changed(struct poll_state *ps, const struct profile *p, uint64_t now_ns)
{
    bool new_errors = p->stats.thread_errors != ps->errors_at_check;
    uint64_t since = now_ns - ps->exec_checked_ns;
    if (since < (new_errors ? EXEC_CHECK_ON_ERROR_NS : EXEC_CHECK_NS))
        return SAMPLER_CONTINUE;
    ps->exec_checked_ns = now_ns;
    ps->errors_at_check = p->stats.thread_errors;
    if (process_state(ps->pid) == PROCESS_EXITED)
        return STOP_EXITED;
    uint64_t id = ps->exec_id ? process_exec_id(ps->pid) : 0;
    return id && id != ps->exec_id ? STOP_EXEC : SAMPLER_CONTINUE;
}

static int poll_between_samples(void *ctx, struct profile *p, uint64_t now_ns)
{
    struct poll_state *ps = ctx;
    if (ps->recorder)
        recorder_round(ps->recorder, p, now_ns);
    if (signals_stop_requested())
        return STOP_SIGNAL;
    int changed = target_changed(ps, p, now_ns);
    if (changed != SAMPLER_CONTINUE)
        return changed;
    if (ps->realtime_stats) {
        if (!ps->last_print_ns) {
            ps->at_last_print = p->stats;
            ps->last_print_ns = now_ns;
            ps->cpu_at_last_print_ns = clock_process_cpu_ns();
        } else if (now_ns - ps->last_print_ns >= REALTIME_STATS_PERIOD_NS) {
            uint64_t cpu = clock_process_cpu_ns();
            stats_write_live(stderr, p, &ps->at_last_print, now_ns - ps->last_print_ns,
                             cpu - ps->cpu_at_last_print_ns, ps->terminal);
            ps->at_last_print = p->stats;
            ps->last_print_ns = now_ns;
            ps->cpu_at_last_print_ns = cpu;
        }
    }
    return SAMPLER_CONTINUE;
}

/* Where the output goes: -o, a default name inside the directory -o
 * names, or the format's default (NULL: stdout). Newly allocated. */
static char *output_path(const struct options *o, pid_t pid)
{
    struct stat st;
    if (o->output_path && stat(o->output_path, &st) == 0 && S_ISDIR(st.st_mode))
        return output_default_path(o->format, o->output_path, pid);
    if (o->output_path)
        return xstrdup(o->output_path);
    return output_default_path(o->format, NULL, pid);
}

/*
 * Before attaching or launching: every file the session will write can be
 * written, and the recording beside the output is not the output itself.
 * Found only at the end, a bad path would cost the whole profile (and with
 * `run`, a launched program killed).
 */
static bool outputs_writable(const struct options *o)
{
    char err[ERRMSG_MAX];
    if (o->record_path && o->output_path && sink_same_file(o->record_path, o->output_path)) {
        error_line("--record and -o name the same file: give the recording a name of its own");
        return false;
    }
    /* Without -o, a file output gets a default name in the working
     * directory; the others go to standard output. */
    char *default_name = o->output_path ? NULL : output_default_path(o->format, NULL, 0);
    const char *output = o->output_path ? o->output_path : default_name ? "." : NULL;
    bool ok = sink_check_writable(output, err, sizeof(err));
    if (!ok && default_name)
        snprintf(err, sizeof(err), "cannot write the --%s output into the working directory: "
                                   "%s; name another place with -o",
                 output_format_info(o->format)->name, strerror(errno));
    ok = ok && sink_check_writable(o->record_path, err, sizeof(err));
    free(default_name);
    if (!ok)
        error_line(err);
    return ok;
}

/* One profiling session: the profile, and the recording streamed beside it
 * (--binary, --record). */
struct session {
    const struct options *o;
    struct profile profile;
    struct recorder *recorder;
    char *recording_path;
    bool recording_is_temporary;    /* only for the output (--gecko) */
    int temporary_fd;               /* ... held open, its name already gone */
};

/*
 * A temporary file for a recording nobody asked to keep. Its name is
 * removed at once, so that no strobe, however it ends (SIGKILL), leaves it
 * behind; it is reached through /proc/self/fd while *fd stays open.
 */
static char *temporary_recording_path(int *fd)
{
    const char *dir = getenv("TMPDIR");
    size_t len = strlen(dir && *dir ? dir : "/tmp") + 32;
    char *path = xmalloc(len);
    snprintf(path, len, "%s/strobe-recording-XXXXXX", dir && *dir ? dir : "/tmp");
    *fd = mkostemp(path, O_CLOEXEC);
    if (*fd < 0) {
        free(path);
        return NULL;
    }
    unlink(path);
    snprintf(path, len, "/proc/self/fd/%d", *fd);
    return path;
}

/* Start recording, if asked, once the target's pid is known. */
static bool session_open_recording(struct session *s, pid_t pid)
{
    const struct options *o = s->o;
    char err[ERRMSG_MAX];
    if (o->format == FORMAT_BINARY) {
        s->recording_path = output_path(o, pid);
    } else if (o->record_path) {
        s->recording_path = xstrdup(o->record_path);
    } else if (output_needs_recording(o->format)) {
        s->recording_path = temporary_recording_path(&s->temporary_fd);
        s->recording_is_temporary = true;
        if (!s->recording_path) {
            snprintf(err, sizeof(err), "cannot create a temporary file for the samples' times "
                                       "in %s (set TMPDIR): %s",
                     getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(errno));
            error_line(err);
            return false;
        }
    } else {
        return true;
    }
    s->profile.pid = pid;
    s->recorder = recorder_open(s->recording_path, &s->profile, err, sizeof(err));
    if (!s->recorder) {
        error_line(err);
        return false;
    }
    return true;
}

/* Finish the recording (0, or 1 if it could not be written). */
static int session_close_recording(struct session *s)
{
    if (!s->recorder)
        return 0;
    char err[ERRMSG_MAX];
    bool ok = recorder_finish(s->recorder, &s->profile, err, sizeof(err));
    s->recorder = NULL;
    if (!ok) {
        error_line(err);
        return 1;
    }
    if (s->o->format != FORMAT_BINARY && !s->recording_is_temporary)
        fprintf(stderr, "strobe: wrote %s\n", s->recording_path);
    return 0;
}

static void session_free(struct session *s)
{
    profile_free(&s->profile);
    if (s->recording_is_temporary && s->recording_path)
        close(s->temporary_fd);
    free(s->recording_path);
}


/* Write the profile in the chosen format; `recording` holds its samples'
 * times when there is one. Returns 0 or 1. */
static int write_output(const struct options *o, const struct profile *p, const char *recording)
{
    char err[ERRMSG_MAX];
    struct sink sink;
    char *path = output_path(o, p->pid);
    if (!sink_open(&sink, path, err, sizeof(err))) {
        /* Still show what was collected. */
        report_write_capture_summary(stderr, p);
        error_line(err);
        free(path);
        return 1;
    }
    bool to_stdout = sink.f == stdout;
    /* Machine-readable output stays clean; the summary goes to stderr. */
    if (o->format != FORMAT_REPORT)
        report_write_capture_summary(stderr, p);
    int status = 0;
    struct output_request req = { o->format, &o->report, recording, o->diff_baseline };
    /* The report holds its own summary: if it is lost, show that much. */
    bool summary_lost = o->format == FORMAT_REPORT && !to_stdout;
    if (!output_write(&req, sink.f, p, err, sizeof(err))) {
        if (summary_lost)
            report_write_capture_summary(stderr, p);
        error_line(err);
        sink_abort(&sink);
        free(path);
        return 1;
    }
    if (!sink_close(&sink, err, sizeof(err))) {
        if (summary_lost)
            report_write_capture_summary(stderr, p);
        error_line(err);
        status = 1;
    } else {
        if (o->stats)
            stats_write(stderr, p);
        if (!to_stdout)
            fprintf(stderr, "strobe: wrote %s\n", path);
    }
    free(path);
    return status;
}

/* End the session: the recording, then the output (written even when the
 * recording beside it failed). Frees the session; returns 0 or 1. */
static int session_finish(struct session *s)
{
    const struct options *o = s->o;
    int status = session_close_recording(s);
    if (o->format != FORMAT_BINARY) {
        status |= write_output(o, &s->profile, status ? NULL : s->recording_path);
        stats_warn_late(stderr, &s->profile);
    } else if (!status) {
        /* The output was the recording, already written: say so. */
        report_write_capture_summary(stderr, &s->profile);
        if (o->stats)
            stats_write(stderr, &s->profile);
        stats_warn_late(stderr, &s->profile);
        if (strcmp(s->recording_path, "-") != 0)
            fprintf(stderr, "strobe: wrote %s\n", s->recording_path);
    }
    session_free(s);
    return status;
}

enum wait_result {
    WAIT_ATTACHED,
    WAIT_FAILED,        /* message in err */
    WAIT_CHILD_EXITED,  /* exit code in *exit_code */
    WAIT_INTERRUPTED,
    WAIT_TIMED_OUT,     /* --duration ran out */
};

/* Sample the attached target until it stops us (see profile_target). */
static enum stop_reason sample_target(struct session *s, struct py_target *t)
{
    const struct options *o = s->o;
    struct sampler_options so = { .interval_ns = o->interval_ns, .duration_ns = o->duration_ns,
                                  .cpu_policy = o->cpu_policy };
    struct poll_state ps = { .realtime_stats = o->realtime_stats, .terminal = isatty(2),
                             .pid = t->pid, .exec_id = process_exec_id(t->pid),
                             .exec_checked_ns = clock_now_ns(),
                             .errors_at_check = s->profile.stats.thread_errors,
                             .recorder = s->recorder };
    /* Its identity now and, if it still runs, at the end (it may have
     * dropped privileges meanwhile). */
    file_identity_of_process(t->pid, &s->profile.sources_reader);
    enum stop_reason why = sampler_run(t, &so, &s->profile, poll_between_samples, &ps);
    /* Once it has gone, its pid may soon be another process's. */
    if (!file_identity_of_process(t->pid, &s->profile.sources_reader))
        s->profile.sources_reader.pid = 0;
    /* A sample sees an exec as it sees libpython unloaded: the runtime is
     * no longer where it was. */
    if (why == STOP_UNLOADED && ps.exec_id && process_exec_id(t->pid) != ps.exec_id)
        why = s->profile.stop = STOP_EXEC;
    if (o->realtime_stats && ps.terminal)
        fputc('\n', stderr);
    return why;
}

/* What wait_for_runtime saw of the program: to say why it found no runtime
 * when the program exits first. */
struct runtime_looks {
    unsigned count;                 /* attaches tried while it was there */
    enum target_status last;        /* the outcome of the last (its message in err) */
    uint64_t waited_ns;             /* from the start of the wait to the exit */
};

static enum wait_result wait_for_runtime(struct py_target *t, pid_t pid, bool child,
                                         uint64_t deadline_ns, char *err, size_t errlen,
                                         int *exit_code, struct runtime_looks *looks);

/*
 * Profile the attached target into `p`. When it execs another program the
 * profile follows it: sampling resumes, into the same profile, once the new
 * program has a CPython runtime (a launcher that execs Python, a program
 * that re-execs itself); until then, or if it never has one, strobe waits
 * for it to exit or for --duration or Ctrl-C, as it would have anyway. A
 * program that unloads its runtime (dlclose of libpython) is waited for
 * the same way.
 */
static enum stop_reason profile_target(struct session *s, struct py_target *t, bool child,
                                       int *exit_code)
{
    const struct options *o = s->o;
    struct profile *p = &s->profile;
    for (;;) {
        enum stop_reason why = sample_target(s, t);
        if (why == STOP_READ_FAILED) {
            fprintf(stderr, "strobe: process %d can no longer be read (did it exec a setuid "
                            "program?); writing what was collected\n", (int)t->pid);
        }
        if (why != STOP_EXEC && why != STOP_UNLOADED)
            return why;
        char exe[TARGET_PATH_MAX], err[ERRMSG_MAX];
        process_exe_path(t->pid, exe, sizeof(exe));
        if (why == STOP_EXEC)
            fprintf(stderr, "strobe: process %d exec'd %s; following it\n", (int)t->pid, exe);
        else
            fprintf(stderr, "strobe: process %d unloaded its CPython runtime (%s); waiting for "
                            "it to load one again\n", (int)t->pid, t->runtime_file);
        uint64_t deadline = o->duration_ns ? p->stats.start_ns + o->duration_ns : 0;
        struct runtime_looks looks;
        switch (wait_for_runtime(t, t->pid, child, deadline, err, sizeof(err), exit_code,
                                 &looks)) {
        case WAIT_ATTACHED:
            continue;
        case WAIT_FAILED:
            error_line(err);
            return STOP_READ_FAILED;
        case WAIT_CHILD_EXITED:
            return STOP_EXITED;
        case WAIT_INTERRUPTED:
            return STOP_SIGNAL;
        case WAIT_TIMED_OUT:
            return STOP_DURATION;
        }
    }
}

int command_attach(const struct options *o)
{
    char err[ERRMSG_MAX];
    struct py_target target;
    if (!outputs_writable(o))
        return 1;
    if (py_target_attach(&target, o->pid, err, sizeof(err)) != TARGET_OK) {
        error_line(err);
        return 1;
    }
    signals_install(0);
    struct session s = { .o = o, .temporary_fd = -1 };
    profile_init(&s.profile);
    if (!session_open_recording(&s, o->pid)) {
        session_free(&s);
        return 1;
    }
    int exit_code = 0;
    enum stop_reason why = profile_target(&s, &target, false, &exit_code);
    if (why == STOP_EXITED) {
        snprintf(err, sizeof(err), "process %d exited; writing what was collected", (int)o->pid);
        error_line(err);
    }
    int status = session_finish(&s);
    return status ? status : why == STOP_READ_FAILED;
}

/* A cheap fingerprint of which files the process has mapped, to retry the
 * (more expensive) attach only when something new was mapped or exec'd. */
static uint64_t maps_fingerprint(pid_t pid)
{
    struct process_maps maps;
    if (maps_read(pid, &maps) != 0)
        return 0;
    uint64_t h = maps.count;
    for (size_t i = 0; i < maps.count; i++)
        if (maps.regions[i].offset == 0 && maps.regions[i].path[0] == '/')
            h = hash_u64(h ^ hash_bytes(maps.regions[i].path, strlen(maps.regions[i].path), i));
    maps_free(&maps);
    return h;
}

/*
 * Wait until process `pid` has a CPython runtime we can attach to: a program
 * just launched (`child`: ours to reap), or one that exec'd. Gives up when it
 * exits, at `deadline_ns` (0: none) or on Ctrl-C.
 */
static enum wait_result wait_for_runtime(struct py_target *t, pid_t pid, bool child,
                                         uint64_t deadline_ns, char *err, size_t errlen,
                                         int *exit_code, struct runtime_looks *looks)
{
    uint64_t start = clock_now_ns(), last_print = 0;
    *looks = (struct runtime_looks){ .last = TARGET_NOT_PYTHON };
    if (errlen)
        err[0] = '\0';
    uint64_t fingerprint = 0, refused = 0;
    uint64_t retry_gap = RUNTIME_RETRY_FIRST_NS, retry_at = 0;
    bool noticed = false;
    for (;;) {
        if (signals_stop_requested())
            return WAIT_INTERRUPTED;
        uint64_t fp = maps_fingerprint(pid);
        bool changed = fp && fp != fingerprint;
        if (changed)
            retry_gap = RUNTIME_RETRY_FIRST_NS;
        if (fp && (changed || clock_now_ns() >= retry_at)) {
            fingerprint = fp;
            char why[ERRMSG_MAX];
            enum target_status st = py_target_attach(t, pid, why, sizeof(why));
            /* One that found it gone says nothing about why the others
             * failed: it is about to be reaped. */
            if (st != TARGET_NO_PROCESS) {
                snprintf(err, errlen, "%s", why);
                looks->count++;
                looks->last = st;
            }
            if (st == TARGET_OK)
                return WAIT_ATTACHED;
            if (st == TARGET_DENIED)
                return WAIT_FAILED;
            /* A runtime the loader is still mapping in is not judged at all
             * (py_target_attach); as a margin for what else start-up may
             * hold, one refused is refused for good only if the maps stood
             * still until a second look refused it too. */
            if (st == TARGET_UNSUPPORTED) {
                if (fp == refused)
                    return WAIT_FAILED;
                refused = fp;
                fingerprint = 0;
            }
            retry_at = clock_now_ns() + retry_gap;
            retry_gap = MIN(2 * retry_gap, RUNTIME_RETRY_MOST_NS);
        }
        if (child ? spawn_reap(pid, false, exit_code) : process_state(pid) == PROCESS_EXITED) {
            looks->waited_ns = clock_now_ns() - start;
            return WAIT_CHILD_EXITED;
        }
        uint64_t now = clock_now_ns();
        if (deadline_ns && now >= deadline_ns)
            return WAIT_TIMED_OUT;
        if (!noticed && now - start > RUNTIME_WAIT_NOTICE_NS && now - last_print > NS_PER_SEC) {
            char exe[TARGET_PATH_MAX];
            process_exe_path(pid, exe, sizeof(exe));
            fprintf(stderr, "strobe: waiting for process %d (%s) to start a CPython interpreter...\n",
                    (int)pid, exe);
            noticed = true;
        }
        clock_sleep_ns(RUNTIME_POLL_NS);
    }
}

/* The program ran to its end without strobe finding its runtime: say so,
 * with what the last look that saw it said (`err`). */
static void error_exited_first(pid_t child, const char *program, int exit_code,
                               const struct runtime_looks *looks, const char *err)
{
    char msg[ERRMSG_MAX], tries[64];
    snprintf(tries, sizeof(tries), "%u look%s in %u ms", looks->count,
             looks->count == 1 ? "" : "s", (unsigned)(looks->waited_ns / NS_PER_MS));
    if (looks->count == 0)
        snprintf(msg, sizeof(msg), "no CPython runtime found in process %d (%s), which exited "
                                   "with status %d before strobe could look", (int)child, program,
                 exit_code);
    else if (looks->last == TARGET_NOT_PYTHON)     /* err: no runtime, and maybe why */
        snprintf(msg, sizeof(msg), "%s; it exited with status %d (%s)", err, exit_code, tries);
    else
        snprintf(msg, sizeof(msg), "process %d (%s) exited with status %d before strobe could "
                                   "attach (%s); the last: %s", (int)child, program, exit_code,
                 tries, err);
    error_line(msg);
}

int command_run(const struct options *o)
{
    char err[ERRMSG_MAX];
    pid_t child;
    if (!outputs_writable(o))
        return 1;
    if (!spawn_program(o->program, &child, err, sizeof(err))) {
        error_line(err);
        return EXIT_EXEC_FAILED;
    }
    signals_install(child);
    struct py_target target;
    int exit_code = 0;
    uint64_t deadline = o->duration_ns ? clock_now_ns() + o->duration_ns : 0;
    struct runtime_looks looks;
    switch (wait_for_runtime(&target, child, true, deadline, err, sizeof(err), &exit_code,
                             &looks)) {
    case WAIT_ATTACHED:
        break;
    case WAIT_FAILED:
        error_line(err);
        spawn_terminate(child, TERMINATE_GRACE_MS);
        return 1;
    case WAIT_CHILD_EXITED:
        error_exited_first(child, o->program[0], exit_code, &looks, err);
        return exit_code ? exit_code : 1;
    case WAIT_INTERRUPTED:
        spawn_reap(child, true, &exit_code);
        return exit_code;
    case WAIT_TIMED_OUT:
        snprintf(err, sizeof(err), "--duration ran out before process %d (%s) started a CPython "
                                   "interpreter; stopping it", (int)child, o->program[0]);
        error_line(err);
        spawn_terminate(child, TERMINATE_GRACE_MS);
        return 1;
    }

    struct session s = { .o = o, .temporary_fd = -1 };
    profile_init(&s.profile);
    if (!session_open_recording(&s, child)) {
        session_free(&s);
        spawn_terminate(child, TERMINATE_GRACE_MS);
        return 1;
    }
    bool reaped = false;
    enum stop_reason why = profile_target(&s, &target, true, &exit_code);
    /* It exited while strobe waited for it after an exec: already reaped. */
    reaped = why == STOP_EXITED && !process_exists(child);
    int status = session_finish(&s);
    /* After --duration the program is stopped, as a profiling session that
     * launched it ends: that is what was asked for, not the program failing,
     * so strobe says 0 (`strobe run -d 10 app && ...`). Otherwise it is
     * already ending (exit, Ctrl-C) and its status is strobe's. */
    if (why == STOP_DURATION) {
        spawn_terminate(child, TERMINATE_GRACE_MS);
        exit_code = 0;
    } else if (!reaped)
        spawn_reap(child, true, &exit_code);
    return status ? status : exit_code;
}

int command_replay(const struct options *o)
{
    char err[ERRMSG_MAX];
    struct profile profile;
    profile_init(&profile);
    bool complete = false;
    if (!recording_replay(o->replay_path, &profile, NULL, NULL, &complete, err, sizeof(err))) {
        error_line(err);
        profile_free(&profile);
        return 1;
    }
    if (!complete)
        fprintf(stderr, "strobe: %s stops early (the strobe that made it was stopped before it "
                        "finished); replaying what it holds\n", o->replay_path);
    int status = write_output(o, &profile, o->replay_path);
    profile_free(&profile);
    return status;
}
